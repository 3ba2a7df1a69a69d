// .npz writing: numpy.savez's format, a zip archive (stored, not deflated) of .npy members.
#include <array>
#include <cstring>

#include "engine/output_file.h"
#include "headmap/error.hpp"
#include "tokenizer/utf8.h"

namespace headmap {
namespace {

void put16(std::vector<std::byte>& out, uint32_t v) {
    out.push_back(std::byte(v & 0xff));
    out.push_back(std::byte((v >> 8) & 0xff));
}
void put32(std::vector<std::byte>& out, uint32_t v) {
    put16(out, v & 0xffff);
    put16(out, v >> 16);
}
void put_name(std::vector<std::byte>& out, const std::string& name) {
    for (char c : name) out.push_back(std::byte(c));
}

}  // namespace

uint32_t zip_crc32(std::span<const std::byte> bytes, uint32_t crc) {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t n = 0; n < 256; ++n) {
            uint32_t c = n;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }();
    crc = ~crc;
    for (std::byte b : bytes) crc = table[(crc ^ uint32_t(b)) & 0xff] ^ (crc >> 8);
    return ~crc;
}

NpzArray npz_floats(std::string name, std::vector<int64_t> shape, std::span<const float> values) {
    const auto bytes = std::as_bytes(values);
    return {std::move(name), "<f4", std::move(shape), {bytes.begin(), bytes.end()}};
}

NpzArray npz_ints(std::string name, std::span<const int32_t> values) {
    const auto bytes = std::as_bytes(values);
    return {std::move(name), "<i4", {int64_t(values.size())}, {bytes.begin(), bytes.end()}};
}

NpzArray npz_strings(std::string name, std::span<const std::string> utf8_strings) {
    std::vector<std::vector<utf8::DecodedChar>> decoded;
    size_t width = 1;  // numpy has no zero-width unicode dtype
    for (const std::string& s : utf8_strings) {
        decoded.push_back(utf8::decode_valid(utf8::sanitize(s)));
        width = std::max(width, decoded.back().size());
    }
    NpzArray out{std::move(name), "<U" + std::to_string(width), {int64_t(utf8_strings.size())}, {}};
    out.data.resize(utf8_strings.size() * width * 4, std::byte{0});
    for (size_t i = 0; i < decoded.size(); ++i)
        for (size_t k = 0; k < decoded[i].size(); ++k) {
            const uint32_t cp = decoded[i][k].code_point;
            std::memcpy(&out.data[(i * width + k) * 4], &cp, 4);  // little-endian host
        }
    return out;
}

std::vector<std::byte> npz_bytes(std::span<const NpzArray> arrays, const std::string& where) {
    std::vector<std::byte> zip, directory;
    for (const NpzArray& array : arrays) {
        std::vector<std::byte> member = npy_header(array.shape, array.descr);
        member.insert(member.end(), array.data.begin(), array.data.end());
        if (member.size() >= 0xFFFFFFFFu || zip.size() >= 0xFFFFFFFFu - member.size())
            throw Error(where + ": arrays too large for a .npz without zip64 (use .npy)",
                        Status::OutOfRange);
        const std::string name = array.name + ".npy";
        const uint32_t crc = zip_crc32(member), size = uint32_t(member.size()),
                       offset = uint32_t(zip.size());
        // Local file header: stored (method 0), a fixed 1980-01-01 date for reproducible files.
        put32(zip, 0x04034b50), put16(zip, 20), put16(zip, 0), put16(zip, 0), put16(zip, 0);
        put16(zip, 0x21), put32(zip, crc), put32(zip, size), put32(zip, size);
        put16(zip, uint32_t(name.size())), put16(zip, 0), put_name(zip, name);
        zip.insert(zip.end(), member.begin(), member.end());
        // Its central-directory entry.
        put32(directory, 0x02014b50), put16(directory, 20), put16(directory, 20);
        put16(directory, 0), put16(directory, 0), put16(directory, 0), put16(directory, 0x21);
        put32(directory, crc), put32(directory, size), put32(directory, size);
        put16(directory, uint32_t(name.size())), put16(directory, 0), put16(directory, 0);
        put16(directory, 0), put16(directory, 0), put32(directory, 0), put32(directory, offset);
        put_name(directory, name);
    }
    const uint32_t directory_offset = uint32_t(zip.size());
    zip.insert(zip.end(), directory.begin(), directory.end());
    put32(zip, 0x06054b50), put16(zip, 0), put16(zip, 0);
    put16(zip, uint32_t(arrays.size())), put16(zip, uint32_t(arrays.size()));
    put32(zip, uint32_t(directory.size())), put32(zip, directory_offset), put16(zip, 0);
    return zip;
}

void write_npz(const std::filesystem::path& path, std::span<const NpzArray> arrays) {
    const std::vector<std::byte> zip = npz_bytes(arrays, path.string());
    AtomicOutputFile file(path);
    file.write(zip);
    file.commit();
}

}  // namespace headmap
