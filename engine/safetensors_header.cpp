// Safetensors header and sharded-index parsing, streamed (nlohmann's SAX interface): no JSON tree
// is built, each tensor costs one TensorView, and parsing stops at the first entry past the
// limits. A tree cost ~1 KB per entry, so a 75 MB header of 1.2 M empty tensors took 1.1 GB and 5 s
// before any check could refuse it.
//
// File layout: u64 little-endian header length N, N bytes of JSON header, then the data section.
// The header maps tensor names to {dtype, shape, data_offsets: [begin, end)} relative to the data
// section; "__metadata__" must be a map of strings and is otherwise skipped.
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/safetensors.h"
#include "engine/safetensors_detail.h"

namespace headmap {
namespace {

using nlohmann::json;
using safetensors_detail::fail;
using safetensors_detail::in_quotes;

// A valid header nests three deep ({name: {shape: [..]}}); deeper input is refused before the
// parser sees it.
constexpr int kMaxHeaderNesting = 16;
// numpy's limit on dimensions; a shape of a million entries is refused at the 65th.
constexpr size_t kMaxRank = 64;

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

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

void check_nesting(std::string_view text, const std::string& what) {
    if (nesting_depth(text) > kMaxHeaderNesting)
        fail(what + ": JSON nested deeper than " + std::to_string(kMaxHeaderNesting) + " levels");
}

std::string limit_context(const SafetensorsLimits& limits) {
    return limits.context.empty() ? "" : " (" + limits.context + ")";
}

// One JSON value as events deliver it: a non-negative integer, or what messages show instead.
struct Scalar {
    std::optional<uint64_t> unsigned_value;
    std::string text;
};

// Turns nlohmann's SAX events into scalar / open / close / key calls on a reader. Deriving
// readers keep the state machine; this keeps the event plumbing in one place.
template <class Reader>
struct SaxAdapter {
    Reader& reader;
    const std::string& what;  // "<file>: header" for parse errors

    bool null() { return reader.scalar({std::nullopt, "null"}); }
    bool boolean(bool value) { return reader.scalar({std::nullopt, value ? "true" : "false"}); }
    bool number_integer(json::number_integer_t value) {
        const auto as_unsigned =
            value >= 0 ? std::optional<uint64_t>(uint64_t(value)) : std::optional<uint64_t>();
        return reader.scalar({as_unsigned, std::to_string(value)});
    }
    bool number_unsigned(json::number_unsigned_t value) {
        return reader.scalar({value, std::to_string(value)});
    }
    bool number_float(json::number_float_t, const json::string_t& text) {
        return reader.scalar({std::nullopt, text});
    }
    bool string(json::string_t& value) { return reader.string(value); }
    bool binary(json::binary_t&) { return reader.scalar({std::nullopt, "binary"}); }
    bool start_object(std::size_t) { return reader.open(true); }
    bool start_array(std::size_t) { return reader.open(false); }
    bool end_object() { return reader.close(true); }
    bool end_array() { return reader.close(false); }
    bool key(json::string_t& name) { return reader.key(name); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
        fail(what + ": not valid JSON (" + e.what() + ")");
    }
};

template <class Reader>
void run_sax(std::string_view text, Reader& reader, const std::string& what) {
    check_nesting(text, what);
    SaxAdapter<Reader> adapter{reader, what};
    json::sax_parse(text.begin(), text.end(), &adapter);
}

// The header's state machine. Each tensor entry is checked when it closes and becomes a view.
class HeaderReader {
  public:
    HeaderReader(std::span<const std::byte> data, const std::string& file,
                 const SafetensorsLimits& limits)
        : data_(data), file_(file), limits_(limits) {}

    std::vector<TensorView> take() { return std::move(views_); }
    std::map<std::string, std::string> take_metadata() { return std::move(metadata_); }

    bool scalar(const Scalar& value) {
        switch (state_) {
            case State::Start:
                fail(file_ + ": header: expected a JSON object, found " + type_of(value.text));
            case State::Top:
                if (key_ == "__metadata__") bad_metadata();
                value_at_top();
            case State::Metadata:
                bad_metadata();
            case State::Entry:
                field_scalar(value);
                break;
            case State::Shape:
                shape_dim(value);
                break;
            case State::Offsets:
                offset(value);
                break;
            case State::Skip:
            case State::Done:
                break;
        }
        return true;
    }
    bool string(const std::string& text) {
        if (state_ == State::Metadata) {  // a metadata value: the first of a repeated key
            metadata_.emplace(metadata_key_, text);
            return true;
        }
        if (state_ == State::Entry && field_ == Field::Dtype) {
            entry_.dtype_text = text;
            entry_.has_dtype = true;
            return true;
        }
        return scalar({std::nullopt, "\"" + text.substr(0, 64) + "\""});
    }
    bool open(bool object) {
        switch (state_) {
            case State::Start:
                if (!object) fail(file_ + ": header: expected a JSON object, found array");
                state_ = State::Top;
                break;
            case State::Top:
                if (key_ == "__metadata__" && object) {
                    state_ = State::Metadata;
                } else if (key_ == "__metadata__") {
                    bad_metadata();
                } else if (!object) {
                    value_at_top();
                } else {
                    entry_ = {};
                    state_ = State::Entry;
                }
                break;
            case State::Metadata:
                bad_metadata();
            case State::Entry:
                field_container(object);
                break;
            case State::Shape:
                fail(where() + ": shape must hold non-negative integers, found a nested " +
                     (object ? "object" : "array"));
            case State::Offsets:
                fail(where() + ": data_offsets must be non-negative integers, found a nested " +
                     (object ? "object" : "array"));
            case State::Skip:
                ++skip_depth_;
                break;
            case State::Done:
                break;
        }
        return true;
    }
    bool close(bool) {
        switch (state_) {
            case State::Top:
                state_ = State::Done;
                finish();
                break;
            case State::Metadata:
                state_ = State::Top;
                break;
            case State::Entry:
                finish_entry();
                state_ = State::Top;
                break;
            case State::Shape:
                entry_.has_shape = true;
                state_ = State::Entry;
                break;
            case State::Offsets:
                if (entry_.offsets.size() != 2)
                    fail(where() + ": missing 'data_offsets' or not a [begin, end] pair");
                entry_.has_offsets = true;
                state_ = State::Entry;
                break;
            case State::Skip:
                if (--skip_depth_ == 0) state_ = State::Entry;
                break;
            case State::Start:
            case State::Done:
                break;
        }
        return true;
    }
    bool key(const std::string& name) {
        if (state_ == State::Top) {
            key_ = name;
            // Counted as the name arrives: an excess stops the parse before its entry is read.
            if (name != "__metadata__" && ++tensors_ > limits_.max_tensors)
                fail(file_ + ": the header lists more than " + std::to_string(limits_.max_tensors) +
                     " tensors" + limit_context(limits_));
        } else if (state_ == State::Metadata) {
            metadata_key_ = name;
        } else if (state_ == State::Entry) {
            field_ = name == "dtype"          ? Field::Dtype
                     : name == "shape"        ? Field::Shape
                     : name == "data_offsets" ? Field::Offsets
                                              : Field::Other;
        }
        return true;
    }

  private:
    enum class State { Start, Top, Metadata, Entry, Shape, Offsets, Skip, Done };
    enum class Field { Dtype, Shape, Offsets, Other };
    struct Entry {
        bool has_dtype = false, has_shape = false, has_offsets = false;
        std::string dtype_text;
        std::vector<int64_t> shape;
        uint64_t numel = 1;
        std::vector<uint64_t> offsets;
    };

    static std::string type_of(const std::string& text) {
        if (text == "null") return "null";
        if (text == "true" || text == "false") return "boolean";
        if (!text.empty() && text.front() == '"') return "string";
        return "number";
    }
    std::string where() const { return file_ + ": tensor " + in_quotes(key_); }
    [[noreturn]] void bad_metadata() const {
        fail(file_ +
             ": \"__metadata__\" is not a map of strings (expected {\"key\": \"value\", "
             "...})");
    }
    [[noreturn]] void value_at_top() const {
        fail(where() + ": expected an object with dtype, shape, data_offsets");
    }
    [[noreturn]] void bad_field() const {
        if (field_ == Field::Dtype) fail(where() + ": missing or non-string 'dtype'");
        if (field_ == Field::Shape) fail(where() + ": missing 'shape' or not an array");
        fail(where() + ": missing 'data_offsets' or not a [begin, end] pair");
    }
    void field_scalar(const Scalar&) {
        if (field_ != Field::Other) bad_field();  // a dtype string never gets here
    }
    void field_container(bool object) {
        if (field_ == Field::Other) {
            skip_depth_ = 1;
            state_ = State::Skip;
        } else if (object || field_ == Field::Dtype) {
            bad_field();
        } else if (field_ == Field::Shape) {
            entry_.shape.clear();
            entry_.numel = 1;
            state_ = State::Shape;
        } else {
            entry_.offsets.clear();
            state_ = State::Offsets;
        }
    }
    void shape_dim(const Scalar& value) {
        const std::optional<uint64_t> size = value.unsigned_value;
        if (!size || *size > uint64_t(std::numeric_limits<int64_t>::max()))
            fail(where() + ": shape must hold non-negative integers, found " + value.text);
        if (entry_.shape.size() == kMaxRank)
            fail(where() + ": shape has more than " + std::to_string(kMaxRank) + " dimensions");
        entry_.shape.push_back(int64_t(*size));
        if (__builtin_mul_overflow(entry_.numel, *size, &entry_.numel) ||
            entry_.numel > uint64_t(std::numeric_limits<int64_t>::max()))
            fail(where() + ": shape " + shape_text(entry_.shape) + "... has too many elements");
    }
    void offset(const Scalar& value) {
        if (!value.unsigned_value)
            fail(where() + ": data_offsets must be non-negative integers, found " + value.text);
        if (entry_.offsets.size() == 2)
            fail(where() + ": missing 'data_offsets' or not a [begin, end] pair");
        entry_.offsets.push_back(*value.unsigned_value);
    }

    void finish_entry() {
        if (!entry_.has_dtype) fail(where() + ": missing or non-string 'dtype'");
        if (!entry_.has_shape) fail(where() + ": missing 'shape' or not an array");
        if (!entry_.has_offsets)
            fail(where() + ": missing 'data_offsets' or not a [begin, end] pair");
        const uint64_t begin = entry_.offsets[0], end = entry_.offsets[1];
        if (begin > end || end > data_.size()) {
            fail(where() + ": data offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 ") out of range of data section of " + std::to_string(data_.size()) + " bytes");
        }
        TensorView view;
        view.dtype = dtype_from_text(entry_.dtype_text);
        const std::optional<uint64_t> element_size = view.dtype != DType::Other
                                                         ? dtype_size(view.dtype)
                                                         : other_dtype_size(entry_.dtype_text);
        if (element_size) {
            uint64_t expected_bytes = 0;
            if (__builtin_mul_overflow(entry_.numel, *element_size, &expected_bytes) ||
                expected_bytes != end - begin) {
                fail(where() + ": shape " + shape_text(entry_.shape) + " of " + entry_.dtype_text +
                     " needs " + std::to_string(entry_.numel) + " x " +
                     std::to_string(*element_size) + " bytes, but data_offsets span " +
                     std::to_string(end - begin) + " bytes");
            }
        }
        view.name = key_;
        view.dtype_text = std::move(entry_.dtype_text);
        view.shape = std::move(entry_.shape);
        view.bytes = data_.subspan(begin, end - begin);
        views_.push_back(std::move(view));
    }

    // Sorted by name (as lookups need), each name once, no two tensors' bytes overlapping.
    void finish() {
        std::sort(views_.begin(), views_.end(),
                  [](const TensorView& a, const TensorView& b) { return a.name < b.name; });
        for (size_t i = 1; i < views_.size(); ++i)
            if (views_[i].name == views_[i - 1].name)
                fail(file_ + ": tensor " + in_quotes(views_[i].name) +
                     " appears twice in the header");
        std::vector<const TensorView*> placed;
        for (const TensorView& view : views_)
            if (!view.bytes.empty()) placed.push_back(&view);  // zero-size ones overlap nothing
        std::sort(placed.begin(), placed.end(), [](const TensorView* a, const TensorView* b) {
            return a->bytes.data() < b->bytes.data();
        });
        const auto begin_of = [&](const TensorView* v) {
            return uint64_t(v->bytes.data() - data_.data());
        };
        for (size_t i = 1; i < placed.size(); ++i) {
            const TensorView& previous = *placed[i - 1];
            const TensorView& current = *placed[i];
            const uint64_t previous_end = begin_of(&previous) + previous.bytes.size();
            if (begin_of(&current) < previous_end) {
                fail(file_ + ": tensors " + in_quotes(previous.name) + " [" +
                     std::to_string(begin_of(&previous)) + ", " + std::to_string(previous_end) +
                     ") and " + in_quotes(current.name) + " [" +
                     std::to_string(begin_of(&current)) + ", " +
                     std::to_string(begin_of(&current) + current.bytes.size()) + ") overlap");
            }
        }
    }

    std::span<const std::byte> data_;
    const std::string& file_;
    const SafetensorsLimits& limits_;
    State state_ = State::Start;
    Field field_ = Field::Other;
    std::string key_;
    Entry entry_;
    int skip_depth_ = 0;
    size_t tensors_ = 0;
    std::vector<TensorView> views_;
    std::string metadata_key_;
    std::map<std::string, std::string> metadata_;
};

// model.safetensors.index.json: {"metadata": ..., "weight_map": {tensor: shard, ...}}; every
// top-level member but weight_map is skipped.
class IndexReader {
  public:
    IndexReader(const std::string& file, const SafetensorsLimits& limits)
        : file_(file), limits_(limits) {}

    std::vector<std::pair<std::string, std::string>> take() {
        if (!seen_map_) fail(file_ + ": missing 'weight_map' object");
        return std::move(entries_);
    }

    bool scalar(const Scalar& value) {
        if (state_ == State::Start)
            fail(file_ + ": expected a JSON object, found " +
                 std::string(value.text == "null"                            ? "null"
                             : value.text == "true" || value.text == "false" ? "boolean"
                             : value.text.starts_with('"')                   ? "string"
                                                                             : "number"));
        if (state_ == State::Top && key_ == "weight_map") bad_map();
        if (state_ == State::Map) bad_shard(value.text);
        return true;
    }
    bool string(const std::string& text) {
        if (state_ == State::Map) {
            entries_.emplace_back(tensor_, text);
            return true;
        }
        return scalar({std::nullopt, "\"" + text.substr(0, 64) + "\""});
    }
    bool open(bool object) {
        if (state_ == State::Start) {
            if (!object) fail(file_ + ": expected a JSON object, found array");
            state_ = State::Top;
        } else if (state_ == State::Top && key_ == "weight_map") {
            if (!object) bad_map();
            seen_map_ = true;
            entries_.clear();  // a repeated weight_map replaces the first, as in a JSON tree
            state_ = State::Map;
        } else if (state_ == State::Map) {
            bad_shard(object ? "{...}" : "[...]");
        } else if (state_ == State::Top || state_ == State::Skip) {
            ++skip_depth_;
            state_ = State::Skip;
        }
        return true;
    }
    bool close(bool) {
        if (state_ == State::Skip) {
            if (--skip_depth_ == 0) state_ = State::Top;
        } else if (state_ == State::Map) {
            state_ = State::Top;
        } else if (state_ == State::Top) {
            state_ = State::Done;
        }
        return true;
    }
    bool key(const std::string& name) {
        if (state_ == State::Top) {
            key_ = name;
        } else if (state_ == State::Map) {
            tensor_ = name;
            if (entries_.size() >= limits_.max_tensors)
                fail(file_ + ": weight_map lists more than " + std::to_string(limits_.max_tensors) +
                     " tensors" + limit_context(limits_));
        }
        return true;
    }

  private:
    enum class State { Start, Top, Map, Skip, Done };
    [[noreturn]] void bad_map() const { fail(file_ + ": missing 'weight_map' object"); }
    [[noreturn]] void bad_shard(const std::string& shown) const {
        fail(file_ + ": weight_map entry " + in_quotes(tensor_) + " names shard " + shown +
             ", expected a file name relative to the index");
    }

    const std::string& file_;
    const SafetensorsLimits& limits_;
    State state_ = State::Start;
    std::string key_, tensor_;
    int skip_depth_ = 0;
    bool seen_map_ = false;
    std::vector<std::pair<std::string, std::string>> entries_;
};

}  // namespace

SafetensorsLimits model_archive_limits(size_t weights, std::string context) {
    SafetensorsLimits limits;
    limits.max_tensors = std::min(2 * weights + 64, kMaxArchiveTensors);
    limits.max_header_bytes =
        std::min<uint64_t>(uint64_t(limits.max_tensors) * 512 + (1u << 20), kMaxHeaderBytes);
    limits.context = std::move(context);
    return limits;
}

std::vector<TensorView> parse_safetensors_bytes(std::span<const std::byte> bytes,
                                                const std::string& path,
                                                const SafetensorsLimits& limits) {
    return parse_safetensors_contents(bytes, path, limits).tensors;
}

SafetensorsContents parse_safetensors_contents(std::span<const std::byte> bytes,
                                               const std::string& path,
                                               const SafetensorsLimits& limits) {
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
    if (header_length > limits.max_header_bytes) {
        fail(path + ": header length " + std::to_string(header_length) + " exceeds the limit of " +
             std::to_string(limits.max_header_bytes) + " bytes" + limit_context(limits));
    }
    const std::string_view header_text(reinterpret_cast<const char*>(bytes.data()) + 8,
                                       static_cast<std::size_t>(header_length));
    HeaderReader reader(bytes.subspan(8 + header_length), path, limits);
    run_sax(header_text, reader, path + ": header");
    SafetensorsContents contents;
    contents.tensors = reader.take();
    contents.metadata = reader.take_metadata();
    return contents;
}

std::vector<std::pair<std::string, std::string>> parse_safetensors_index(
    std::string_view text, const std::string& path, const SafetensorsLimits& limits) {
    if (text.size() > limits.max_header_bytes)
        fail(path + ": " + std::to_string(text.size()) + " bytes, over the limit of " +
             std::to_string(limits.max_header_bytes) + limit_context(limits));
    IndexReader reader(path, limits);
    run_sax(text, reader, path);
    return reader.take();
}

}  // namespace headmap
