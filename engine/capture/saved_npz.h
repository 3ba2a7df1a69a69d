// .npz archives read from bytes: numpy.savez's zip of .npy members, stored (not deflated), as
// headmap's export and numpy write them. Every offset, size and name is checked against the
// archive, and each member's CRC-32; members are views into the bytes.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace headmap {

struct NpzMember {
    std::string name;  // as stored, e.g. "attentions.npy"
    std::span<const std::byte> data;
};

// At most 256 members. headmap::Error (starting with `where`) for a broken or unsupported archive:
// no end record, a compressed member (numpy.savez_compressed), zip64 offsets past the archive,
// a member outside it, a CRC mismatch, a repeated name.
std::vector<NpzMember> parse_npz(std::span<const std::byte> bytes, const std::string& where);

}  // namespace headmap
