#include "engine/capture/saved_maps.h"

#include <cstring>
#include <limits>

#include "engine/analysis/analysis.h"
#include "engine/capture/saved_metadata.h"
#include "engine/capture/saved_npz.h"
#include "engine/capture/selection.h"
#include "engine/output_file.h"
#include "engine/safetensors.h"
#include "headmap/error.hpp"
#include "tokenizer/utf8.h"

namespace headmap {
namespace {

// The header of a .npy file: the Python dict literal numpy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 7, 7), }
// parsed exactly: the three keys once each and nothing else, string values in quotes, the shape
// a tuple of decimal integers. A substring search would take "'shape': (2, 3x)" for (2, 3), or
// find a '<f4' inside another field.
struct NpyHeader {
    std::string descr;
    bool fortran_order = false;
    std::vector<int64_t> shape;
};

NpyHeader parse_npy_header(const std::string& text, const std::string& where) {
    size_t at = 0;
    const auto bad = [&](const std::string& what) {
        return Error(where + ": malformed .npy header (" + what +
                     "; expected {'descr': ..., 'fortran_order': ..., 'shape': (...)})");
    };
    const auto skip_space = [&] {
        while (at < text.size() && (text[at] == ' ' || text[at] == '\n' || text[at] == '\t')) ++at;
    };
    const auto expect = [&](char c) {
        skip_space();
        if (at >= text.size() || text[at] != c) throw bad(std::string("expected '") + c + "'");
        ++at;
    };
    const auto accept = [&](char c) {
        skip_space();
        if (at < text.size() && text[at] == c) return ++at, true;
        return false;
    };
    const auto quoted = [&] {
        skip_space();
        if (at >= text.size() || (text[at] != '\'' && text[at] != '"'))
            throw bad("expected a quoted string");
        const char quote = text[at++];
        const size_t end = text.find(quote, at);
        if (end == std::string::npos) throw bad("unterminated string");
        std::string value = text.substr(at, end - at);
        at = end + 1;
        return value;
    };
    NpyHeader header;
    bool seen[3] = {false, false, false};
    expect('{');
    while (!accept('}')) {
        const std::string key = quoted();
        expect(':');
        skip_space();
        if (key == "descr" && !seen[0]) {
            header.descr = quoted();
            seen[0] = true;
        } else if (key == "fortran_order" && !seen[1]) {
            if (text.compare(at, 4, "True") == 0) {
                header.fortran_order = true, at += 4;
            } else if (text.compare(at, 5, "False") == 0) {
                header.fortran_order = false, at += 5;
            } else {
                throw bad("fortran_order is not True or False");
            }
            seen[1] = true;
        } else if (key == "shape" && !seen[2]) {
            expect('(');
            while (!accept(')')) {
                skip_space();
                const size_t digits_start = at;
                int64_t dim = 0;
                while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
                    if (dim > (int64_t(1) << 40)) throw bad("a dimension is too large");
                    dim = dim * 10 + (text[at++] - '0');
                }
                if (at == digits_start) throw bad("a dimension is not a whole number");
                header.shape.push_back(dim);
                if (!accept(',')) {
                    expect(')');
                    break;
                }
            }
            seen[2] = true;
        } else {
            throw bad((key == "descr" || key == "fortran_order" || key == "shape"
                           ? "repeated key '"
                           : "unknown key '") +
                      key + "'");
        }
        if (!accept(',')) {
            expect('}');
            break;
        }
    }
    skip_space();
    if (at != text.size()) throw bad("text after the closing '}'");
    if (!seen[0] || !seen[1] || !seen[2]) throw bad("a key is missing");
    return header;
}

// (L, H, S, S), (H, S, S) or (S, S) as (L, H, S).
void adopt_shape(AttentionMaps& maps, const std::vector<int64_t>& shape, const std::string& where) {
    if (shape.size() < 2 || shape.size() > 4 || shape[shape.size() - 1] != shape[shape.size() - 2])
        throw Error(where + ": shape " + shape_text(shape) +
                    " is not attention maps (expected (layers, heads, S, S), (heads, S, S) or "
                    "(S, S))");
    const size_t maps_in_file =
        checked_element_count(shape, where) / size_t(shape.back()) / size_t(shape.back());
    if (maps_in_file > size_t(std::numeric_limits<int>::max()))
        throw Error(where + ": shape " + shape_text(shape) + " holds more than " +
                    std::to_string(std::numeric_limits<int>::max()) + " maps");
    maps.seq = int(shape.back());
    maps.n_head = shape.size() >= 3 ? int(shape[shape.size() - 3]) : 1;
    maps.n_layer = shape.size() == 4 ? int(shape[0]) : 1;
}

// Saved maps carry no model: they were masked causally when every map's strict upper triangle is
// exactly 0, since a softmax gives an exact 0 nowhere else (short of underflow across a whole
// triangle). Statistics and views then treat them as the model's own maps.
bool has_causal_mask(std::span<const float> all, int seq) {
    if (seq < 2 || all.empty()) return false;
    const size_t n = size_t(seq);
    for (size_t at = 0; at < all.size(); at += n * n)
        for (size_t i = 0; i + 1 < n; ++i)
            for (size_t j = i + 1; j < n; ++j)
                if (all[at + i * n + j] != 0.0f) return false;
    return true;
}

// A headmap export's labels: tokens.npy, one-dimensional "<U{n}" (UTF-32, zero-padded).
std::vector<std::string> npy_strings(const NpzMember& member, const std::string& where) {
    const std::string inner = where + " array '" + member.name + "'";
    const NpyArray array = parse_npy_array(member.data, inner);
    if (array.descr.compare(0, 2, "<U") != 0 || array.shape.size() != 1)
        throw Error(inner + ": dtype '" + array.descr + "' of shape " + shape_text(array.shape) +
                    " (expected one-dimensional unicode labels, '<U{n}')");
    const size_t count = size_t(array.shape[0]), width = array.data.size() / 4 / count;
    std::vector<std::string> out(count);
    for (size_t i = 0; i < count; ++i)
        for (size_t k = 0; k < width; ++k) {
            uint32_t cp;
            std::memcpy(&cp, array.data.data() + 4 * (i * width + k), 4);
            if (cp == 0) break;  // numpy pads with zeros
            if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
            utf8::append_code_point(out[i], char32_t(cp));
        }
    return out;
}

// type_ids.npy: one-dimensional '<i4' or '<i8'; nullopt for anything else (not ours to judge).
std::optional<std::vector<int64_t>> npy_ints(const NpzMember& member, const std::string& where) {
    const NpyArray array = parse_npy_array(member.data, where + " array '" + member.name + "'");
    if ((array.descr != "<i4" && array.descr != "<i8") || array.shape.size() != 1)
        return std::nullopt;
    const size_t item = array.descr == "<i4" ? 4 : 8, count = array.data.size() / item;
    std::vector<int64_t> out(count);
    for (size_t i = 0; i < count; ++i) {
        if (item == 4) {
            int32_t v;
            std::memcpy(&v, array.data.data() + 4 * i, 4);
            out[i] = v;
        } else {
            std::memcpy(&out[i], array.data.data() + 8 * i, 8);
        }
    }
    return out;
}

}  // namespace

size_t checked_element_count(std::span<const int64_t> shape, const std::string& where) {
    size_t count = 1;
    for (int64_t dim : shape) {
        if (dim < 1 || dim > kMaxMapDimension)
            throw Error(where + ": shape " + shape_text(shape) + " has a dimension of " +
                        std::to_string(dim) + " (expected 1.." + std::to_string(kMaxMapDimension) +
                        ")");
        count *= size_t(dim);
        if (count > kMaxMapValues)
            throw Error(where + ": shape " + shape_text(shape) + " holds more than " +
                        std::to_string(kMaxMapValues) + " values");
    }
    return count;
}

NpyArray parse_npy_array(std::span<const std::byte> raw, const std::string& where) {
    const std::string_view bytes(reinterpret_cast<const char*>(raw.data()), raw.size());
    if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
        throw Error(where + ": not a .npy file (missing the \\x93NUMPY magic)");
    const int major = static_cast<unsigned char>(bytes[6]);
    size_t header_len = 0, header_start = 0;
    if (major == 1) {
        header_len = size_t(static_cast<unsigned char>(bytes[8])) |
                     size_t(static_cast<unsigned char>(bytes[9])) << 8;
        header_start = 10;
    } else if (major == 2 || major == 3) {
        if (bytes.size() < 12) throw Error(where + ": truncated .npy header");
        for (int i = 0; i < 4; ++i)
            header_len |= size_t(static_cast<unsigned char>(bytes[8 + size_t(i)])) << (8 * i);
        header_start = 12;
    } else {
        throw Error(where + ": unsupported .npy version " + std::to_string(major),
                    Status::Unsupported);
    }
    if (header_start + header_len > bytes.size()) throw Error(where + ": truncated .npy header");
    NpyHeader header = parse_npy_header(std::string(bytes.substr(header_start, header_len)), where);
    // Item sizes of the dtypes headmap reads: maps (float32, float16), token types (int32,
    // int64) and labels (numpy's fixed-width UTF-32 "<U{n}", n code points an item).
    size_t item = 0;
    if (header.descr == "<f4" || header.descr == "<i4") {
        item = 4;
    } else if (header.descr == "<f2") {
        item = 2;
    } else if (header.descr == "<i8") {
        item = 8;
    } else if (header.descr.size() > 2 && header.descr.compare(0, 2, "<U") == 0 &&
               header.descr.size() <= 7 &&
               header.descr.find_first_not_of("0123456789", 2) == std::string::npos) {
        item = 4 * size_t(std::stoul(header.descr.substr(2)));
    }
    if (item == 0)
        throw Error(where + ": unsupported dtype '" + header.descr +
                        "' (expected little-endian float32 '<f4' or float16 '<f2')",
                    Status::Unsupported);
    if (header.fortran_order)
        throw Error(where + ": Fortran-order arrays are not supported (expected C order)",
                    Status::Unsupported);
    NpyArray out;
    out.descr = std::move(header.descr);
    out.shape = std::move(header.shape);
    const size_t count = checked_element_count(out.shape, where);
    const size_t data_start = header_start + header_len;
    if (bytes.size() - data_start != count * item)  // count <= 2^34, item < 2^22: no overflow
        throw Error(where + ": holds " + std::to_string(bytes.size() - data_start) +
                    " data bytes, expected " + std::to_string(count * item) + " for shape " +
                    shape_text(out.shape));
    out.data = raw.subspan(data_start);
    return out;
}

NpyData parse_npy(std::span<const std::byte> raw, const std::string& where) {
    const NpyArray array = parse_npy_array(raw, where);
    const bool half = array.descr == "<f2";
    if (array.descr != "<f4" && !half)
        throw Error(where + ": unsupported dtype '" + array.descr +
                        "' (expected little-endian float32 '<f4' or float16 '<f2')",
                    Status::Unsupported);
    NpyData out;
    out.shape = array.shape;
    const size_t count = array.data.size() / (half ? 2 : 4);
    out.values.resize(count);
    const auto* data = reinterpret_cast<const char*>(array.data.data());
    if (!half) {
        std::memcpy(out.values.data(), data, count * 4);  // '<f4' is the host's float layout
        return out;
    }
    for (size_t i = 0; i < count; ++i) {
        uint16_t bits;
        std::memcpy(&bits, data + 2 * i, 2);
        out.values[i] = half_to_float(bits);
    }
    return out;
}

std::vector<std::byte> npy_bytes(std::span<const int64_t> shape, std::span<const float> values) {
    std::vector<std::byte> bytes = npy_header(shape);
    const auto data = std::as_bytes(values);
    bytes.insert(bytes.end(), data.begin(), data.end());
    return bytes;
}

std::optional<SavedMapsFormat> saved_maps_format_for(const std::filesystem::path& path) {
    const std::string ext = lower_extension(path);
    if (ext == ".npy") return SavedMapsFormat::Npy;
    if (ext == ".safetensors") return SavedMapsFormat::Safetensors;
    if (ext == ".npz") return SavedMapsFormat::Npz;
    return std::nullopt;
}

AttentionMaps read_saved_maps(std::span<const std::byte> bytes, SavedMapsFormat format,
                              const SavedMapsOptions& options, const std::string& where) {
    AttentionMaps maps;
    std::vector<float> all;
    std::optional<std::vector<std::string>> tokens;  // a headmap export's labels
    std::optional<std::vector<int64_t>> type_ids;
    if (format == SavedMapsFormat::Npy) {
        NpyData data = parse_npy(bytes, where);
        adopt_shape(maps, data.shape, where);
        all = std::move(data.values);
    } else if (format == SavedMapsFormat::Npz) {
        const std::vector<NpzMember> members = parse_npz(bytes, where);
        const auto find = [&](const std::string& wanted) -> const NpzMember* {
            for (const NpzMember& m : members)
                if (m.name == wanted + ".npy") return &m;
            return nullptr;
        };
        std::string name = options.tensor;
        if (name.empty()) {
            if (find("attentions"))
                name = "attentions";
            else if (members.size() == 1 && members.front().name.ends_with(".npy"))
                name = members.front().name.substr(0, members.front().name.size() - 4);
            else
                throw Error(where + " holds " + std::to_string(members.size()) +
                                " arrays and none is named 'attentions' (name the array to read)",
                            Status::BadArgument);
        }
        const NpzMember* member = find(name);
        if (!member) throw Error(where + ": no array '" + name + "'", Status::BadArgument);
        const std::string inner = where + " array '" + name + "'";
        NpyData data = parse_npy(member->data, inner);
        adopt_shape(maps, data.shape, inner);
        all = std::move(data.values);
        if (name == "attentions") {
            if (const NpzMember* m = find("tokens")) tokens = npy_strings(*m, where);
            if (const NpzMember* m = find("type_ids")) type_ids = npy_ints(*m, where);
        }
    } else {
        // Exports hold one tensor and a few metadata strings (the tokens of 2^17 positions take
        // ~3 MB); other files of maps (a test's expected.safetensors) a few dozen tensors. The
        // format's own limits (100 MB) would let a hostile header cost seconds and ~300 MB.
        const SafetensorsLimits limits{16ull << 20, 4096, "the limit for saved maps"};
        const SafetensorsContents contents = parse_safetensors_contents(bytes, where, limits);
        const std::vector<TensorView>& tensors = contents.tensors;
        std::string name = options.tensor;
        const auto find = [&](const std::string& wanted) -> const TensorView* {
            for (const TensorView& view : tensors)
                if (view.name == wanted) return &view;
            return nullptr;
        };
        if (name.empty()) {
            if (tensors.size() == 1)
                name = tensors.front().name;
            else if (find("attentions"))
                name = "attentions";
            else
                throw Error(where + " holds " + std::to_string(tensors.size()) +
                                " tensors and none is named 'attentions' (name the tensor to read)",
                            Status::BadArgument);
        }
        const TensorView* view = find(name);
        if (!view) throw Error(where + ": no tensor '" + name + "'", Status::BadArgument);
        adopt_shape(maps, view->shape, where + " tensor '" + name + "'");
        all = tensor_to_floats(*view);
        // headmap's exports: "tokens" and "type_ids" as JSON lists (other files' metadata
        // under those keys, if not such lists, is not ours and stays unread).
        if (name == "attentions") {
            if (auto it = contents.metadata.find("tokens"); it != contents.metadata.end())
                tokens = json_string_list(it->second);
            if (auto it = contents.metadata.find("type_ids"); it != contents.metadata.end())
                type_ids = json_int_list(it->second);
        }
    }
    // Every consumer trusts saved maps to be attention weights; NaN, infinities or negative
    // values would turn into NaN statistics or nonsense pictures.
    analysis::check_attention_maps(all, maps.n_layer * maps.n_head, maps.seq, false, where.c_str());
    maps.layers = parse_selection("layer", options.layers, maps.n_layer);
    maps.causal = has_causal_mask(all, maps.seq);
    const size_t per_layer = size_t(maps.n_head) * size_t(maps.seq) * size_t(maps.seq);
    if (maps.layers.size() == size_t(maps.n_layer)) {
        maps.values = std::move(all);
    } else {
        for (int l : maps.layers)
            maps.values.insert(maps.values.end(),
                               all.begin() + std::ptrdiff_t(size_t(l) * per_layer),
                               all.begin() + std::ptrdiff_t(size_t(l + 1) * per_layer));
    }
    for (int i = 0; i < maps.seq; ++i) maps.tokens.push_back(std::to_string(i));
    apply_export_labels(maps, std::move(tokens), type_ids, where);
    return maps;
}

void set_tokens(AttentionMaps& maps, std::vector<std::string> tokens) {
    if (int(tokens.size()) != maps.seq)
        throw Error(std::to_string(tokens.size()) + " token labels for maps of " +
                        std::to_string(maps.seq) + " x " + std::to_string(maps.seq) +
                        " (expected one label per row)",
                    Status::BadArgument);
    maps.tokens = std::move(tokens);
}

}  // namespace headmap
