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
#include <utility>
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

// The format's own limit on a header (safetensors refuses more than ~100 MB), and the most tensors
// any checkpoint may list: a hostile header is refused at the first byte or entry past them.
inline constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
inline constexpr std::size_t kMaxArchiveTensors = 16384;

// What a header (or a sharded index, or all shards together) may declare. Headers are parsed as
// a stream into one small view per tensor, stopping at the first excess, so a hostile file costs
// at most max_header_bytes of scanning and max_tensors views.
struct SafetensorsLimits {
    uint64_t max_header_bytes = kMaxHeaderBytes;
    std::size_t max_tensors = kMaxArchiveTensors;
    std::string context;  // why these limits, for messages; empty for the defaults
};

// The limits for a checkpoint of a model that binds `weights` tensors: twice that plus 64
// (checkpoints also hold buffers such as GPT-2's attn.bias, task heads and poolers), at most
// kMaxArchiveTensors, and 512 bytes of header per tensor plus 1 MiB (real entries take
// ~100-150 bytes; HF's metadata is a few bytes).
// `context` says which model, e.g. "gpt2 with 2 layers binds 30 tensors".
SafetensorsLimits model_archive_limits(std::size_t weights, std::string context);

class SafetensorsArchive {
  public:
    // `path` is a .safetensors file, a model.safetensors.index.json, or a directory that holds
    // model.safetensors or model.safetensors.index.json. `limits` bound every header and the index,
    // and the tensors of all shards together.
    static SafetensorsArchive open(const std::filesystem::path& path,
                                   const SafetensorsLimits& limits = {});

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
// views point into `bytes`, sorted by name. `where` names the source in errors.
std::vector<TensorView> parse_safetensors_bytes(std::span<const std::byte> bytes,
                                                const std::string& where,
                                                const SafetensorsLimits& limits = {});
// The same, with the header's "__metadata__" strings (the first of a repeated key).
struct SafetensorsContents {
    std::vector<TensorView> tensors;
    std::map<std::string, std::string> metadata;
};
SafetensorsContents parse_safetensors_contents(std::span<const std::byte> bytes,
                                               const std::string& where,
                                               const SafetensorsLimits& limits = {});
// The weight_map of a model.safetensors.index.json's text: (tensor, shard) pairs in file order,
// the shard names unchecked. `where` names the file in errors.
std::vector<std::pair<std::string, std::string>> parse_safetensors_index(
    std::string_view text, const std::string& where, const SafetensorsLimits& limits = {});
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
