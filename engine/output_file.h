// Output files are written to a temporary file beside the target and renamed into place on
// commit(), so a failed run never leaves a half-written output.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace headmap {

// The extension of `path` in lower case (".PNG" -> ".png"): output and input formats are chosen by
// extension, the same way whatever its case.
std::string lower_extension(const std::filesystem::path& path);

class AtomicOutputFile {
  public:
    explicit AtomicOutputFile(std::filesystem::path path);  // throws headmap::Error if unwritable
    ~AtomicOutputFile();  // removes the temp file if not committed
    AtomicOutputFile(const AtomicOutputFile&) = delete;
    AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;

    void write(std::span<const std::byte> bytes);
    void commit();

  private:
    std::filesystem::path path_, temp_path_;
    std::FILE* file_ = nullptr;
    bool committed_ = false;
};

// Streams a C-order float32 NumPy array (format 1.0) of a known shape.
class NpyWriter {
  public:
    NpyWriter(std::filesystem::path path, std::vector<int64_t> shape);
    void write(std::span<const float> values);
    void commit();  // checks every element was written

  private:
    AtomicOutputFile file_;
    uint64_t expected_ = 1, written_ = 0;
};

// The .npy header for a little-endian C-order array of numpy dtype `descr` ("<f4" float32,
// "<i4" int32, "<U7" unicode of 7 code points), padded to a multiple of 64 bytes.
std::vector<std::byte> npy_header(std::span<const int64_t> shape, std::string_view descr = "<f4");

// One array of an .npz archive: its name (without ".npy"), numpy dtype, shape and raw data.
struct NpzArray {
    std::string name;
    std::string descr;
    std::vector<int64_t> shape;
    std::vector<std::byte> data;  // C order, little-endian
};
// Float32, int32 and fixed-width unicode (UTF-32LE, numpy "<U{n}") arrays.
NpzArray npz_floats(std::string name, std::vector<int64_t> shape, std::span<const float> values);
NpzArray npz_ints(std::string name, std::span<const int32_t> values);
NpzArray npz_strings(std::string name, std::span<const std::string> utf8);

// The zip (and PNG) CRC-32 of `bytes`, continuing from `crc`.
uint32_t zip_crc32(std::span<const std::byte> bytes, uint32_t crc = 0);

// Writes an uncompressed .npz (a zip of .npy files, as numpy.savez writes), atomically.
void write_npz(const std::filesystem::path& path, std::span<const NpzArray> arrays);
// The same archive's bytes; `where` names it in errors.
std::vector<std::byte> npz_bytes(std::span<const NpzArray> arrays, const std::string& where);

}  // namespace headmap
