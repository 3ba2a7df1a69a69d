#include "engine/capture/saved_npz.h"

#include <cstdint>
#include <set>

#include "engine/output_file.h"
#include "headmap/error.hpp"

namespace headmap {
namespace {

constexpr size_t kMaxMembers = 256;
constexpr size_t kEndRecord = 22;  // the end-of-central-directory record without its comment

uint64_t read_le(std::span<const std::byte> bytes, size_t at, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t(bytes[at + size_t(i)]) << (8 * i);
    return v;
}

// The end record: the last "PK\5\6" whose comment runs exactly to the end of the archive.
size_t find_end_record(std::span<const std::byte> bytes, const std::string& where) {
    if (bytes.size() >= kEndRecord) {
        const size_t lowest =
            bytes.size() > kEndRecord + 0xffff ? bytes.size() - kEndRecord - 0xffff : 0;
        for (size_t at = bytes.size() - kEndRecord + 1; at-- > lowest;) {
            if (read_le(bytes, at, 4) == 0x06054b50 &&
                at + kEndRecord + read_le(bytes, at + 20, 2) == bytes.size())
                return at;
        }
    }
    throw Error(where + ": not a .npz archive (no zip end-of-directory record)");
}

}  // namespace

std::vector<NpzMember> parse_npz(std::span<const std::byte> bytes, const std::string& where) {
    const size_t end = find_end_record(bytes, where);
    const uint64_t entries = read_le(bytes, end + 10, 2);
    const uint64_t directory_size = read_le(bytes, end + 12, 4);
    const uint64_t directory_at = read_le(bytes, end + 16, 4);
    if (read_le(bytes, end + 4, 4) != 0)
        throw Error(where + ": a multi-part zip archive (expected one .npz file)",
                    Status::Unsupported);
    if (entries > kMaxMembers)
        throw Error(where + ": " + std::to_string(entries) + " members, more than the " +
                    std::to_string(kMaxMembers) + " a .npz of maps holds");
    if (directory_at > end || directory_size > end - directory_at)
        throw Error(where + ": the zip directory lies outside the archive");
    std::vector<NpzMember> members;
    std::set<std::string> names;
    size_t at = size_t(directory_at);
    const size_t directory_end = size_t(directory_at + directory_size);
    for (uint64_t e = 0; e < entries; ++e) {
        const std::string entry = where + ": zip entry " + std::to_string(e + 1);
        if (directory_end - at < 46 || read_le(bytes, at, 4) != 0x02014b50)
            throw Error(entry + ": broken central-directory record");
        const uint64_t flags = read_le(bytes, at + 8, 2), method = read_le(bytes, at + 10, 2);
        const uint32_t crc = uint32_t(read_le(bytes, at + 16, 4));
        uint64_t packed = read_le(bytes, at + 20, 4), size = read_le(bytes, at + 24, 4);
        const size_t name_len = size_t(read_le(bytes, at + 28, 2)),
                     extra_len = size_t(read_le(bytes, at + 30, 2)),
                     comment_len = size_t(read_le(bytes, at + 32, 2));
        uint64_t local = read_le(bytes, at + 42, 4);
        if (directory_end - at - 46 < name_len + extra_len + comment_len)
            throw Error(entry + ": broken central-directory record");
        const auto* name_bytes = reinterpret_cast<const char*>(bytes.data() + at + 46);
        std::string name(name_bytes, name_len);
        // zip64: the sizes and offset that read 0xffffffff follow in extra field 0x0001, in order.
        for (size_t x = at + 46 + name_len; x + 4 <= at + 46 + name_len + extra_len;) {
            const uint64_t id = read_le(bytes, x, 2), len = read_le(bytes, x + 2, 2);
            if (x + 4 + len > at + 46 + name_len + extra_len)
                throw Error(entry + ": broken extra field");
            if (id == 0x0001) {
                size_t y = x + 4;
                for (uint64_t* field : {&size, &packed, &local}) {
                    if (*field != 0xffffffffu) continue;
                    if (y + 8 > x + 4 + len) throw Error(entry + ": broken zip64 field");
                    *field = read_le(bytes, y, 8);
                    y += 8;
                }
            }
            x += 4 + size_t(len);
        }
        at += 46 + name_len + extra_len + comment_len;
        if (flags & 1) throw Error(entry + " (" + name + ") is encrypted", Status::Unsupported);
        if (method != 0)
            throw Error(entry + " (" + name +
                            ") is compressed (numpy.savez_compressed); expected a stored .npz "
                            "(numpy.savez, headmap export)",
                        Status::Unsupported);
        if (packed != size) throw Error(entry + " (" + name + "): stored sizes disagree");
        if (!names.insert(name).second) throw Error(entry + ": a second member " + name);
        // The local header: its own name and extra lengths say where the data starts.
        if (local > directory_at || directory_at - local < 30 ||
            read_le(bytes, size_t(local), 4) != 0x04034b50)
            throw Error(entry + " (" + name + "): no local header at offset " +
                        std::to_string(local));
        const uint64_t data_at = local + 30 + read_le(bytes, size_t(local) + 26, 2) +
                                 read_le(bytes, size_t(local) + 28, 2);
        if (data_at > directory_at || size > directory_at - data_at)
            throw Error(entry + " (" + name + "): " + std::to_string(size) + " bytes at offset " +
                        std::to_string(data_at) + " run past the members");
        const std::span<const std::byte> data = bytes.subspan(size_t(data_at), size_t(size));
        if (zip_crc32(data) != crc) throw Error(entry + " (" + name + "): CRC-32 mismatch");
        members.push_back({std::move(name), data});
    }
    return members;
}

}  // namespace headmap
