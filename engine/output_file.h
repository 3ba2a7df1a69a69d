// Output files are written to a temporary file beside the target and renamed into place on
// commit(), so a failed run never leaves a half-written output.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <vector>

namespace headmap {

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

// The .npy header for a little-endian float32 C-order array, padded to a multiple of 64 bytes.
std::vector<std::byte> npy_header(std::span<const int64_t> shape);

}  // namespace headmap
