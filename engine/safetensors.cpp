// Safetensors reader: mmap, header validation, sharded index, and the fp32 WeightStore.
// The writer and the fp16/bf16 conversions live in safetensors_write.cpp.
//
// File layout: u64 little-endian header length N, N bytes of JSON header, then the data section.
// The header maps tensor names to {dtype, shape, data_offsets: [begin, end)} relative to the data
// section; "__metadata__" must be a map of strings and is otherwise skipped.
#include "engine/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/read_file.h"
#include "headmap/error.hpp"

namespace headmap {

namespace {

using json = nlohmann::json;

// Real headers are a few hundred KiB; the limit keeps a hostile length from driving a huge parse.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
// A valid header nests three deep ({name: {shape: [..]}}); deeper input is rejected before the
// JSON parser sees it, so a header of a million '[' cannot exhaust the stack.
constexpr int kMaxHeaderNesting = 16;
constexpr const char* kIndexFileName = "model.safetensors.index.json";
constexpr const char* kSingleFileName = "model.safetensors";

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

// Error messages must stay one line even when they quote parser output or file contents.
std::string one_line(std::string text) {
    for (char& c : text) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return text;
}

[[noreturn]] void fail(const std::string& message) {
    throw Error(one_line(message));
}

std::string in_quotes(std::string_view name) {
    // Built by appending: GCC 12 at -O3 warns falsely (-Wrestrict) about "'" + std::string.
    std::string text;
    text.reserve(name.size() + 2);
    text.push_back('\'');
    text.append(name);
    text.push_back('\'');
    return text;
}

DType dtype_from_text(std::string_view text) {
    static const std::pair<const char*, DType> kKnown[] = {
        {"F64", DType::F64}, {"F32", DType::F32},  {"F16", DType::F16}, {"BF16", DType::BF16},
        {"I64", DType::I64}, {"I32", DType::I32},  {"I16", DType::I16}, {"I8", DType::I8},
        {"U8", DType::U8},   {"BOOL", DType::BOOL}};
    for (const auto& [name, dtype] : kKnown) {
        if (text == name) return dtype;
    }
    return DType::Other;
}

// Element sizes of dtypes the engine never computes with but that real checkpoints contain;
// knowing them lets the shape/offset consistency check cover those tensors too. Sub-byte types
// (F4, F6) are left out: only their range is checked.
std::optional<uint64_t> other_dtype_size(std::string_view text) {
    static const std::pair<const char*, uint64_t> kSizes[] = {
        {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"F8_E8M0", 1}, {"U16", 2},
        {"U32", 4},     {"U64", 8},     {"C64", 8}};
    for (const auto& [name, size] : kSizes) {
        if (text == name) return size;
    }
    return std::nullopt;
}

// Non-negative JSON integers only: rejects negatives, floats (2.0 included), strings, bools.
std::optional<uint64_t> as_unsigned(const json& value) {
    if (value.is_number_unsigned()) return value.get<uint64_t>();
    if (value.is_number_integer() && value.get<int64_t>() >= 0) {
        return static_cast<uint64_t>(value.get<int64_t>());
    }
    return std::nullopt;
}

// Deepest bracket nesting outside JSON strings; stops counting once over the limit.
int nesting_depth(std::string_view text) {
    int depth = 0;
    int deepest = 0;
    bool in_string = false;
    bool escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > kMaxHeaderNesting) return deepest;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

json parse_json_object(std::string_view text, const std::string& what) {
    if (nesting_depth(text) > kMaxHeaderNesting) {
        fail(what + ": JSON nested deeper than " + std::to_string(kMaxHeaderNesting) + " levels");
    }
    json parsed;
    try {
        parsed = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {
        fail(what + ": not valid JSON (" + e.what() + ")");
    }
    if (!parsed.is_object()) {
        fail(what + ": expected a JSON object, found " + std::string(parsed.type_name()));
    }
    return parsed;
}

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

// Validates one tensor entry of a header and returns its view into `data`.
TensorView parse_tensor_entry(const std::string& file, const std::string& name, const json& entry,
                              std::span<const std::byte> data, uint64_t& begin_out) {
    const std::string where = file + ": tensor " + in_quotes(name);
    if (!entry.is_object()) fail(where + ": expected an object with dtype, shape, data_offsets");

    const auto dtype_it = entry.find("dtype");
    if (dtype_it == entry.end() || !dtype_it->is_string()) {
        fail(where + ": missing or non-string 'dtype'");
    }
    TensorView view;
    view.name = name;
    view.dtype_text = dtype_it->get<std::string>();
    view.dtype = dtype_from_text(view.dtype_text);

    const auto shape_it = entry.find("shape");
    if (shape_it == entry.end() || !shape_it->is_array()) {
        fail(where + ": missing 'shape' or not an array");
    }
    uint64_t numel = 1;
    for (const json& dim : *shape_it) {
        const std::optional<uint64_t> size = as_unsigned(dim);
        if (!size || *size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            fail(where + ": shape " + shape_it->dump() + " must hold non-negative integers");
        }
        if (__builtin_mul_overflow(numel, *size, &numel) ||
            numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            fail(where + ": shape " + shape_it->dump() + " has too many elements");
        }
        view.shape.push_back(static_cast<int64_t>(*size));
    }

    const auto offsets_it = entry.find("data_offsets");
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
        fail(where + ": missing 'data_offsets' or not a [begin, end] pair");
    }
    const std::optional<uint64_t> begin = as_unsigned((*offsets_it)[0]);
    const std::optional<uint64_t> end = as_unsigned((*offsets_it)[1]);
    if (!begin || !end) {
        fail(where + ": data_offsets " + offsets_it->dump() + " must be non-negative integers");
    }
    if (*begin > *end || *end > data.size()) {
        fail(where + ": data offsets [" + std::to_string(*begin) + ", " + std::to_string(*end) +
             ") out of range of data section of " + std::to_string(data.size()) + " bytes");
    }

    std::optional<uint64_t> element_size;
    if (view.dtype != DType::Other) {
        element_size = dtype_size(view.dtype);
    } else {
        element_size = other_dtype_size(view.dtype_text);
    }
    if (element_size) {
        uint64_t expected_bytes = 0;
        if (__builtin_mul_overflow(numel, *element_size, &expected_bytes) ||
            expected_bytes != *end - *begin) {
            fail(where + ": shape " + shape_text(view.shape) + " of " + view.dtype_text +
                 " needs " + std::to_string(numel) + " x " + std::to_string(*element_size) +
                 " bytes, but data_offsets span " + std::to_string(*end - *begin) + " bytes");
        }
    }
    view.bytes = data.subspan(*begin, *end - *begin);
    begin_out = *begin;
    return view;
}

}  // namespace

// Parses and validates the header of one safetensors file's bytes; views point into `bytes`.
std::vector<TensorView> parse_safetensors_bytes(std::span<const std::byte> bytes,
                                                const std::string& path) {
    if (bytes.size() < 8) {
        fail(path + ": file of " + std::to_string(bytes.size()) +
             " bytes is too short for the 8-byte header length");
    }
    uint64_t header_length = 0;
    std::memcpy(&header_length, bytes.data(), sizeof header_length);  // little-endian host
    if (header_length > bytes.size() - 8) {
        fail(path + ": header length " + std::to_string(header_length) + " exceeds file size " +
             std::to_string(bytes.size()));
    }
    if (header_length > kMaxHeaderBytes) {
        fail(path + ": header length " + std::to_string(header_length) + " exceeds the limit of " +
             std::to_string(kMaxHeaderBytes) + " bytes");
    }
    const std::string_view header_text(reinterpret_cast<const char*>(bytes.data()) + 8,
                                       static_cast<std::size_t>(header_length));
    const json header = parse_json_object(header_text, path + ": header");
    const std::span<const std::byte> data = bytes.subspan(8 + header_length);

    struct ByteRange {
        uint64_t begin;
        uint64_t end;
        const std::string* name;
    };
    std::vector<TensorView> views;
    std::vector<ByteRange> ranges;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            // The format's metadata is a map of strings; anything else marks a broken header.
            const bool strings = entry.is_object() &&
                                 std::all_of(entry.begin(), entry.end(),
                                             [](const nlohmann::json& v) { return v.is_string(); });
            if (!strings)
                fail(path +
                     ": \"__metadata__\" is not a map of strings (expected {\"key\": \"value\", "
                     "...})");
            continue;
        }
        uint64_t begin = 0;
        views.push_back(parse_tensor_entry(path, name, entry, data, begin));
    }
    for (const TensorView& view : views) {
        if (view.bytes.empty()) continue;  // occupies no bytes, cannot overlap anything
        const auto begin = static_cast<uint64_t>(view.bytes.data() - data.data());
        ranges.push_back({begin, begin + view.bytes.size(), &view.name});
    }
    std::sort(ranges.begin(), ranges.end(),
              [](const ByteRange& a, const ByteRange& b) { return a.begin < b.begin; });
    for (std::size_t i = 1; i < ranges.size(); ++i) {
        const ByteRange& previous = ranges[i - 1];
        const ByteRange& current = ranges[i];
        if (current.begin < previous.end) {
            fail(path + ": tensors " + in_quotes(*previous.name) + " [" +
                 std::to_string(previous.begin) + ", " + std::to_string(previous.end) + ") and " +
                 in_quotes(*current.name) + " [" + std::to_string(current.begin) + ", " +
                 std::to_string(current.end) + ") overlap");
        }
    }
    return views;
}

namespace {

std::vector<TensorView> parse_safetensors(const MappedFile& file) {
    return parse_safetensors_bytes(file.bytes(), file.path().string());
}

std::string read_small_file(const std::filesystem::path& path) {
    std::string why;
    std::optional<std::string> text = read_regular_file(path, why, kMaxHeaderBytes);
    if (!text) fail(path.string() + ": cannot read the index: " + why);
    return std::move(*text);
}

// Shard names come from a downloaded file; keep them inside the index's directory.
bool is_safe_shard_name(const std::filesystem::path& shard) {
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

SafetensorsArchive SafetensorsArchive::open(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        if (std::filesystem::exists(path / kSingleFileName, ec))
            return open(path / kSingleFileName);
        if (std::filesystem::exists(path / kIndexFileName, ec)) return open(path / kIndexFileName);
        fail(path.string() + ": directory holds neither " + kSingleFileName + " nor " +
             kIndexFileName);
    }

    SafetensorsArchive archive;
    archive.source_ = path;
    const std::string file_name = path.filename().string();
    const bool is_index = file_name.size() >= 5 && file_name.ends_with(".json");
    if (!is_index) {
        archive.files_.push_back(std::make_unique<MappedFile>(path));
        archive.tensors_ = parse_safetensors(*archive.files_.back());
    } else {
        const std::string index_name = path.string();
        const json index = parse_json_object(read_small_file(path), index_name);
        const auto map_it = index.find("weight_map");
        if (map_it == index.end() || !map_it->is_object()) {
            fail(index_name + ": missing 'weight_map' object");
        }
        // Group tensor names by shard, so each shard is mapped once.
        std::map<std::string, std::vector<std::string>> names_by_shard;
        for (const auto& [tensor, shard] : map_it->items()) {
            if (!shard.is_string() || !is_safe_shard_name(shard.get<std::string>())) {
                fail(index_name + ": weight_map entry " + in_quotes(tensor) + " names shard " +
                     shard.dump() + ", expected a file name relative to the index");
            }
            names_by_shard[shard.get<std::string>()].push_back(tensor);
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
            std::vector<TensorView> views = parse_safetensors(*archive.files_.back());
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
