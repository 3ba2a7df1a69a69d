// Safetensors reader: mmap, sharded checkpoints, and the fp32 WeightStore. The header and index
// parsers live in safetensors_header.cpp; the writer and the fp16/bf16 conversions in
// safetensors_write.cpp.
#include "engine/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "engine/read_file.h"
#include "engine/safetensors_detail.h"
#include "headmap/error.hpp"

namespace headmap {

namespace {

using safetensors_detail::fail;
using safetensors_detail::in_quotes;

constexpr const char* kIndexFileName = "model.safetensors.index.json";
constexpr const char* kSingleFileName = "model.safetensors";

}  // namespace

// Read-only private mapping of a whole file. open() follows symlinks, which is what the Hugging
// Face cache needs (snapshot files are links into blobs/).
class MappedFile {
  public:
    explicit MappedFile(std::filesystem::path path) : path_(std::move(path)) {
        // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever; the S_ISREG check
        // below then refuses it. (It changes nothing for a regular file.)
        const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) fail(path_.string() + ": cannot open: " + std::strerror(errno));
        // The mapping outlives the descriptor, so close it on every path out of here.
        struct FdCloser {
            int fd;
            ~FdCloser() { ::close(fd); }
        } closer{fd};
        struct stat info {};
        if (::fstat(fd, &info) != 0)
            fail(path_.string() + ": cannot stat: " + std::strerror(errno));
        if (!S_ISREG(info.st_mode)) fail(path_.string() + ": not a regular file");
        if (info.st_size == 0) fail(path_.string() + ": empty file, expected a safetensors file");
        size_ = static_cast<std::size_t>(info.st_size);
        void* address = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (address == MAP_FAILED) fail(path_.string() + ": cannot mmap: " + std::strerror(errno));
        address_ = address;
    }
    ~MappedFile() {
        if (address_ != nullptr) ::munmap(address_, size_);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    std::span<const std::byte> bytes() const {
        return {static_cast<const std::byte*>(address_), size_};
    }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
    void* address_ = nullptr;
    std::size_t size_ = 0;
};

const char* dtype_name(DType dtype) {
    switch (dtype) {
        case DType::F64:
            return "F64";
        case DType::F32:
            return "F32";
        case DType::F16:
            return "F16";
        case DType::BF16:
            return "BF16";
        case DType::I64:
            return "I64";
        case DType::I32:
            return "I32";
        case DType::I16:
            return "I16";
        case DType::I8:
            return "I8";
        case DType::U8:
            return "U8";
        case DType::BOOL:
            return "BOOL";
        case DType::Other:
            return "Other";
    }
    return "Other";
}

std::size_t dtype_size(DType dtype) {
    switch (dtype) {
        case DType::F64:
        case DType::I64:
            return 8;
        case DType::F32:
        case DType::I32:
            return 4;
        case DType::F16:
        case DType::BF16:
        case DType::I16:
            return 2;
        case DType::I8:
        case DType::U8:
        case DType::BOOL:
            return 1;
        case DType::Other:
            return 0;
    }
    return 0;
}

int64_t TensorView::numel() const {
    int64_t count = 1;
    for (int64_t dim : shape) count *= dim;  // validated at open: cannot overflow
    return count;
}

namespace {

std::vector<TensorView> parse_safetensors(const MappedFile& file, const SafetensorsLimits& limits) {
    return parse_safetensors_bytes(file.bytes(), file.path().string(), limits);
}

std::string read_small_file(const std::filesystem::path& path, uint64_t max_bytes) {
    std::string why;
    std::optional<std::string> text = read_regular_file(path, why, max_bytes);
    if (!text) fail(path.string() + ": cannot read the index: " + why);
    return std::move(*text);
}

// Shard names come from a downloaded file; keep them inside the index's directory.
bool is_safe_shard_name(const std::string& name) {
    // A NUL would end the path early: the file opened would not be the one named.
    if (name.find('\0') != std::string::npos) return false;
    const std::filesystem::path shard(name);
    if (shard.empty() || shard.is_absolute()) return false;
    for (const auto& part : shard) {
        if (part == "..") return false;
    }
    return true;
}

}  // namespace

SafetensorsArchive::SafetensorsArchive(SafetensorsArchive&&) noexcept = default;
SafetensorsArchive& SafetensorsArchive::operator=(SafetensorsArchive&&) noexcept = default;
SafetensorsArchive::~SafetensorsArchive() = default;

SafetensorsArchive SafetensorsArchive::open(const std::filesystem::path& path,
                                            const SafetensorsLimits& limits) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        if (std::filesystem::exists(path / kSingleFileName, ec))
            return open(path / kSingleFileName, limits);
        if (std::filesystem::exists(path / kIndexFileName, ec))
            return open(path / kIndexFileName, limits);
        fail(path.string() + ": directory holds neither " + kSingleFileName + " nor " +
             kIndexFileName);
    }

    SafetensorsArchive archive;
    archive.source_ = path;
    const std::string file_name = path.filename().string();
    const bool is_index = file_name.size() >= 5 && file_name.ends_with(".json");
    if (!is_index) {
        archive.files_.push_back(std::make_unique<MappedFile>(path));
        archive.tensors_ = parse_safetensors(*archive.files_.back(), limits);
    } else {
        const std::string index_name = path.string();
        const std::vector<std::pair<std::string, std::string>> weight_map = parse_safetensors_index(
            read_small_file(path, limits.max_header_bytes), index_name, limits);
        // Group tensor names by shard, so each shard is mapped once.
        std::map<std::string, std::vector<std::string>> names_by_shard;
        for (const auto& [tensor, shard] : weight_map) {
            if (!is_safe_shard_name(shard)) {
                fail(index_name + ": weight_map entry " + in_quotes(tensor) + " names shard " +
                     in_quotes(shard) + ", expected a file name relative to the index");
            }
            names_by_shard[shard].push_back(tensor);
        }
        const std::filesystem::path directory = path.parent_path();
        std::map<std::string, std::string, std::less<>> shard_of_tensor;
        for (const auto& [shard, names] : names_by_shard) {
            const std::filesystem::path shard_path = directory / shard;
            if (!std::filesystem::exists(shard_path, ec)) {
                fail(index_name + ": shard " + in_quotes(shard) +
                     " listed in weight_map not found (" + shard_path.string() + ")");
            }
            archive.files_.push_back(std::make_unique<MappedFile>(shard_path));
            std::vector<TensorView> views = parse_safetensors(*archive.files_.back(), limits);
            if (archive.tensors_.size() + views.size() > limits.max_tensors)
                fail(index_name + ": the shards list more than " +
                     std::to_string(limits.max_tensors) + " tensors together" +
                     (limits.context.empty() ? "" : " (" + limits.context + ")"));
            for (TensorView& view : views) {
                const auto [it, inserted] = shard_of_tensor.emplace(view.name, shard);
                if (!inserted) {
                    fail(index_name + ": tensor " + in_quotes(view.name) +
                         " appears in both shard " + in_quotes(it->second) + " and shard " +
                         in_quotes(shard));
                }
                archive.tensors_.push_back(std::move(view));
            }
            for (const std::string& name : names) {
                const auto it = shard_of_tensor.find(name);
                if (it == shard_of_tensor.end() || it->second != shard) {
                    fail(index_name + ": weight_map puts tensor " + in_quotes(name) + " in shard " +
                         in_quotes(shard) + ", but that shard has no such tensor");
                }
            }
        }
    }
    std::sort(archive.tensors_.begin(), archive.tensors_.end(),
              [](const TensorView& a, const TensorView& b) { return a.name < b.name; });
    return archive;
}

const TensorView* SafetensorsArchive::find(std::string_view name) const {
    const auto it = std::lower_bound(
        tensors_.begin(), tensors_.end(), name,
        [](const TensorView& view, std::string_view key) { return view.name < key; });
    if (it == tensors_.end() || it->name != name) return nullptr;
    return &*it;
}

WeightStore::WeightStore(SafetensorsArchive archive) : archive_(std::move(archive)) {}

std::span<const float> WeightStore::get(std::string_view name,
                                        std::span<const int64_t> expected_shape) {
    const TensorView* view = archive_.find(name);
    if (view == nullptr) {
        fail("tensor " + in_quotes(name) + " missing: not found in " + archive_.source().string());
    }
    if (view->dtype != DType::F32 && view->dtype != DType::F16 && view->dtype != DType::BF16) {
        fail("tensor " + in_quotes(name) + ": dtype " + view->dtype_text +
             " cannot be used as a weight, expected F32, F16 or BF16");
    }
    if (!std::equal(view->shape.begin(), view->shape.end(), expected_shape.begin(),
                    expected_shape.end())) {
        fail("tensor " + in_quotes(name) + ": expected shape " + shape_text(expected_shape) +
             ", found " + shape_text(view->shape));
    }
    if (const auto it = handed_out_.find(name); it != handed_out_.end()) return it->second;

    const std::size_t count = static_cast<std::size_t>(view->numel());
    const std::byte* source = view->bytes.data();
    std::span<const float> result;
    if (view->dtype == DType::F32 &&
        reinterpret_cast<std::uintptr_t>(source) % alignof(float) == 0) {
        // In place: the archive (and its mapping) lives as long as this store.
        result = {reinterpret_cast<const float*>(source), count};
    } else {
        std::vector<float>& values = owned_.emplace_back(count);
        if (view->dtype == DType::F32) {
            if (count > 0) std::memcpy(values.data(), source, count * sizeof(float));
        } else {
            const bool is_half = view->dtype == DType::F16;
            for (std::size_t i = 0; i < count; ++i) {
                uint16_t bits = 0;
                std::memcpy(&bits, source + 2 * i, sizeof bits);  // may be unaligned
                values[i] = is_half ? half_to_float(bits) : bf16_to_float(bits);
            }
        }
        result = values;
    }
    handed_out_.emplace(std::string(name), result);
    return result;
}

std::vector<float> tensor_to_floats(const TensorView& view) {
    if (view.dtype != DType::F32 && view.dtype != DType::F16 && view.dtype != DType::BF16)
        fail("tensor " + in_quotes(view.name) + ": dtype " + view.dtype_text +
             " is not a float tensor, expected F32, F16 or BF16");
    const std::size_t count = static_cast<std::size_t>(view.numel());
    std::vector<float> values(count);
    const std::byte* source = view.bytes.data();
    if (view.dtype == DType::F32) {
        if (count > 0) std::memcpy(values.data(), source, count * sizeof(float));
        return values;
    }
    const bool is_half = view.dtype == DType::F16;
    for (std::size_t i = 0; i < count; ++i) {
        uint16_t bits = 0;
        std::memcpy(&bits, source + 2 * i, sizeof bits);  // may be unaligned
        values[i] = is_half ? half_to_float(bits) : bf16_to_float(bits);
    }
    return values;
}

std::string shape_text(std::span<const int64_t> shape) {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) text += ", ";
        text += std::to_string(shape[i]);
    }
    return text + "]";
}

}  // namespace headmap
