// Memory-mapped safetensors reader: one file, or a sharded checkpoint described by
// model.safetensors.index.json. Every header field is validated before any tensor is used,
// so a broken or hostile file yields a headmap::Error naming the file and the problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace headmap {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, Other };

const char* dtype_name(DType dtype);
std::size_t dtype_size(DType dtype);  // bytes per element; 0 for Other

// A read-only view of one tensor inside a mapped file. `bytes` stays valid as long as the
// SafetensorsArchive that produced it is alive.
struct TensorView {
    std::string name;
    DType dtype = DType::Other;
    std::vector<int64_t> shape;
    std::span<const std::byte> bytes;  // exactly numel * dtype_size bytes
    int64_t numel() const;
    std::string dtype_text;  // the dtype as written in the header, e.g. "F8_E4M3" for Other
};

class MappedFile;  // RAII mmap of one file (defined in safetensors.cpp)

class SafetensorsArchive {
  public:
    // `path` is a .safetensors file, a model.safetensors.index.json, or a directory that holds
    // model.safetensors or model.safetensors.index.json.
    static SafetensorsArchive open(const std::filesystem::path& path);

    SafetensorsArchive(SafetensorsArchive&&) noexcept;
    SafetensorsArchive& operator=(SafetensorsArchive&&) noexcept;
    ~SafetensorsArchive();

    const TensorView* find(std::string_view name) const;  // nullptr when absent
    const std::vector<TensorView>& tensors() const { return tensors_; }
    // The path given to open(): named in error messages about this archive.
    const std::filesystem::path& source() const { return source_; }

  private:
    SafetensorsArchive() = default;
    std::filesystem::path source_;
    std::vector<std::unique_ptr<MappedFile>> files_;
    std::vector<TensorView> tensors_;  // sorted by name
};

// Holds the fp32 weights a model uses: F32 tensors are used in place (when 4-byte aligned),
// F16 and BF16 are converted once and owned here.
class WeightStore {
  public:
    explicit WeightStore(SafetensorsArchive archive);

    // Returns the tensor as fp32, checking presence, dtype (F32/F16/BF16) and shape.
    // Errors name the tensor, the expected and the found shape or dtype.
    std::span<const float> get(std::string_view name, std::span<const int64_t> expected_shape);
    std::span<const float> get(std::string_view name,
                               std::initializer_list<int64_t> expected_shape) {
        return get(name, std::span<const int64_t>(expected_shape.begin(), expected_shape.size()));
    }
    bool contains(std::string_view name) const { return archive_.find(name) != nullptr; }
    const SafetensorsArchive& archive() const { return archive_; }

  private:
    SafetensorsArchive archive_;
    std::vector<std::vector<float>> owned_;  // converted or realigned tensors
    // Every tensor handed out so far, so a second get() neither converts nor copies again.
    std::map<std::string, std::span<const float>, std::less<>> handed_out_;
};

// Writes a safetensors file (used by tools that make random checkpoints, and by tests that
// build hostile files). Written to a temporary file, then renamed.
struct TensorToWrite {
    std::string name;
    DType dtype;  // F32, F16 or BF16; data is converted from fp32
    std::vector<int64_t> shape;
    std::span<const float> data;
};
// `metadata` goes into the header's "__metadata__" (string values), beside "format": "pt".
void write_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata = {});

// The header of a safetensors file held in memory, validated as open() validates a file's; the
// views point into `bytes`. `where` names the source in errors.
std::vector<TensorView> parse_safetensors_bytes(std::span<const std::byte> bytes,
                                                const std::string& where);
// An F32, F16 or BF16 tensor as fp32 values (a copy); headmap::Error for other dtypes.
std::vector<float> tensor_to_floats(const TensorView& view);

// The same file's bytes; `where` names it in errors.
std::vector<std::byte> safetensors_bytes(std::span<const TensorToWrite> tensors,
                                         const std::map<std::string, std::string>& metadata,
                                         const std::string& where);

// "[768, 2304]": a shape as error messages show it.
std::string shape_text(std::span<const int64_t> shape);

// fp16/bf16 <-> fp32 conversion helpers (round to nearest even on the way down).
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
float bf16_to_float(uint16_t b);
uint16_t float_to_bf16(float f);

}  // namespace headmap
