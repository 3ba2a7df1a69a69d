#include "tools/cli/map_source.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "engine/analysis.h"
#include "engine/architecture.h"
#include "engine/engine.h"
#include "engine/model_files.h"
#include "engine/output_file.h"
#include "engine/read_file.h"
#include "engine/safetensors.h"
#include "engine/words.h"
#include "headmap/error.hpp"
#include "tools/cli/model_input.h"

namespace headmap::cli {
namespace fs = std::filesystem;

std::span<const float> Maps::map(int layer, int head) const {
    const auto at = std::find(layers.begin(), layers.end(), layer);
    if (at == layers.end() || head < 0 || head >= n_head)
        throw Error("layer " + std::to_string(layer) + " head " + std::to_string(head) +
                    " was not loaded");
    const size_t per_map = size_t(seq) * size_t(seq);
    const size_t index = size_t(at - layers.begin()) * size_t(n_head) + size_t(head);
    return std::span<const float>(values).subspan(index * per_map, per_map);
}

fs::path default_model_dir() {
    constexpr const char* kName = "gpt2-tiny-headmap";
    std::error_code ec;
    if (const char* weights = std::getenv("HEADMAP_WEIGHTS"); weights && *weights)
        if (fs::is_directory(fs::path(weights) / kName, ec)) return fs::path(weights) / kName;
    if (fs::is_directory(fs::path("weights") / kName, ec)) return fs::path("weights") / kName;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        for (const fs::path& candidate :
             {exe.parent_path() / ".." / ".." / "weights" / kName,
              exe.parent_path() / ".." / "share" / "headmap" / "weights" / kName})
            if (fs::is_directory(candidate, ec)) return candidate.lexically_normal();
    }
    throw Error(std::string("no --model given and the default model ") + kName +
                " was not found in weights/ (pass --model DIR|ID)");
}

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

NpyData read_npy_file(const fs::path& path) {
    std::string why;
    std::optional<std::string> file = read_regular_file(path, why);
    if (!file) throw Error("--from " + path.string() + ": cannot read: " + why);
    const std::string bytes = std::move(*file);
    const std::string where = "--from " + path.string();
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
        throw Error(where + ": unsupported .npy version " + std::to_string(major));
    }
    if (header_start + header_len > bytes.size()) throw Error(where + ": truncated .npy header");
    const NpyHeader header = parse_npy_header(bytes.substr(header_start, header_len), where);
    size_t element = 0;
    bool half = false;
    if (header.descr == "<f4") {
        element = 4;
    } else if (header.descr == "<f2") {
        element = 2, half = true;
    } else {
        throw Error(where + ": unsupported dtype '" + header.descr +
                    "' (expected little-endian float32 '<f4' or float16 '<f2')");
    }
    if (header.fortran_order)
        throw Error(where + ": Fortran-order arrays are not supported (expected C order)");
    NpyData out;
    out.shape = header.shape;
    const size_t count = checked_element_count(out.shape, where);
    const size_t data_start = header_start + header_len;
    if (bytes.size() - data_start != count * element)
        throw Error(where + ": holds " + std::to_string(bytes.size() - data_start) +
                    " data bytes, expected " + std::to_string(count * element) + " for shape " +
                    shape_text(out.shape));
    out.values.resize(count);
    const char* data = bytes.data() + data_start;
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

namespace {

// (L, H, S, S), (H, S, S) or (S, S) as (L, H, S).
void adopt_shape(Maps& maps, const std::vector<int64_t>& shape, const std::string& where) {
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

std::vector<std::string> read_tokens(const std::string& spec, int seq) {
    std::vector<std::string> tokens;
    std::error_code ec;
    if (fs::is_regular_file(spec, ec)) {  // one token per line
        std::ifstream in(spec, std::ios::binary);
        std::string line;
        while (std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            tokens.push_back(line);
        }
    } else {  // space-separated
        std::istringstream in(spec);
        std::string token;
        while (in >> token) tokens.push_back(token);
    }
    if (int(tokens.size()) != seq)
        throw Error("--tokens gives " + std::to_string(tokens.size()) +
                    " tokens, but the maps are " + std::to_string(seq) + " x " +
                    std::to_string(seq) + " (expected one token per row)");
    return tokens;
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

Maps maps_from_file(const Args& args, const fs::path& path, const std::string& layer_selection) {
    Maps maps;
    maps.name = path.filename().string();
    std::vector<float> all;
    const std::string where = "--from " + path.string();
    if (lower_extension(path) == ".npy") {
        NpyData data = read_npy_file(path);
        adopt_shape(maps, data.shape, where);
        all = std::move(data.values);
    } else if (lower_extension(path) == ".safetensors") {
        SafetensorsArchive archive = SafetensorsArchive::open(path);
        std::string name = args.get("tensor").value_or("");
        if (name.empty()) {
            if (archive.tensors().size() == 1)
                name = archive.tensors().front().name;
            else if (archive.find("attentions"))
                name = "attentions";
            else
                throw Error(where + " holds " + std::to_string(archive.tensors().size()) +
                            " tensors; pick one with --tensor NAME");
        }
        const TensorView* view = archive.find(name);
        if (!view) throw Error(where + ": no tensor '" + name + "'");
        adopt_shape(maps, view->shape, where + " tensor '" + name + "'");
        const std::vector<int64_t> shape = view->shape;
        WeightStore store(std::move(archive));
        const auto values = store.get(name, shape);
        all.assign(values.begin(), values.end());
    } else {
        throw Error(where + ": unsupported file (expected .npy or .safetensors)");
    }
    // Every command trusts saved maps to be attention weights; NaN, infinities or negative
    // values would turn into NaN statistics or nonsense pictures with exit 0.
    analysis::check_attention_maps(all, maps.n_layer * maps.n_head, maps.seq, false, where.c_str());
    maps.layers = parse_selection("layer", layer_selection, maps.n_layer);
    maps.causal = has_causal_mask(all, maps.seq);
    const size_t per_layer = size_t(maps.n_head) * size_t(maps.seq) * size_t(maps.seq);
    for (int l : maps.layers)
        maps.values.insert(maps.values.end(), all.begin() + std::ptrdiff_t(size_t(l) * per_layer),
                           all.begin() + std::ptrdiff_t(size_t(l + 1) * per_layer));
    if (args.get("split")) maps.split = args.get_int("split", -1, 1, maps.seq - 1);
    if (auto tokens = args.get("tokens")) {
        maps.tokens = read_tokens(*tokens, maps.seq);
    } else {
        for (int i = 0; i < maps.seq; ++i) maps.tokens.push_back(std::to_string(i));
    }
    return maps;
}

// --words: the maps, tokens and split become per word. A pair's second text always starts a word.
void merge_into_words(Maps& maps, words::TokenFamily family) {
    const words::WordGroups groups = words::group_words(maps.tokens, family, maps.split);
    maps.values = words::merge_words(maps.values, int(maps.layers.size()) * maps.n_head, maps.seq,
                                     groups.word_of_token, groups.count());
    if (maps.split >= maps.seq)  // an empty second text
        maps.split = groups.count();
    else if (maps.split > 0)
        maps.split = groups.word_of_token[size_t(maps.split)];
    maps.seq = groups.count();
    maps.tokens = groups.labels;
    maps.word_of_token = groups.word_of_token;
}

}  // namespace

Maps load_maps(const Args& args, const std::string& layer_selection, bool truncate,
               const std::optional<std::string>& model_override,
               const std::optional<std::string>& text_override,
               const std::optional<std::string>& from_override) {
    const std::optional<std::string> from = from_override ? from_override : args.get("from");
    const bool by_words = args.flag("words");
    if (from) {
        if (args.get("model") || args.get("text") || args.get("pair"))
            throw Error(
                "--from reads saved maps; it cannot be combined with --model, --text or "
                "--pair");
        if (by_words && !args.get("tokens"))
            throw Error(
                "--words with --from needs --tokens (the token strings say where words "
                "begin)");
        Maps maps = maps_from_file(args, *from, layer_selection);
        if (by_words) merge_into_words(maps, words::infer_family(maps.tokens));
        return maps;
    }
    if (args.get("tokens") || args.get("tensor") || args.get("split"))
        throw Error("--tokens, --tensor and --split go with --from (saved maps)");
    // The model and text: as export takes them, with the embedded model as the default.
    std::vector<std::string> argv;
    const std::string model =
        model_override ? *model_override : args.get("model").value_or(default_model_dir().string());
    argv.insert(argv.end(), {"--model", model});
    if (auto tokenizer = args.get("tokenizer"))
        argv.insert(argv.end(), {"--tokenizer", *tokenizer});
    argv.insert(argv.end(), {"--text", text_override ? *text_override : args.required("text")});
    if (auto pair = args.get("pair")) argv.insert(argv.end(), {"--pair", *pair});
    const Args model_args("maps", argv, kModelOptions, {});
    ModelInput input = read_model_input(model_args, truncate);
    const Encoding& encoding = input.inputs.front();

    Maps maps;
    maps.name = input.model_dir.filename().string();
    maps.n_layer = input.config.n_layer;
    maps.n_head = input.config.n_head;
    maps.seq = int(encoding.ids.size());
    maps.causal = arch_for(input.config.model_type).causal;
    maps.layers = parse_selection("layer", layer_selection, maps.n_layer);
    for (int32_t id : encoding.ids) maps.tokens.push_back(input.tokenizer.token_string(id));
    if (args.get("pair")) maps.split = input.splits.front();

    EngineOptions options;
    options.max_seq = maps.seq;
    apply_device_options(args, options);
    Engine engine = Engine::load(input.model_dir, options);
    std::vector<uint8_t> emit(size_t(maps.n_layer), 0);
    for (int l : maps.layers) emit[size_t(l)] = 1;
    ForwardRequest request;
    request.ids = encoding.ids;
    request.type_ids = encoding.type_ids;
    request.emit_layers = emit;
    maps.values.reserve(maps.layers.size() * size_t(maps.n_head) * size_t(maps.seq) *
                        size_t(maps.seq));
    engine.run(request, [&](const AttentionSlot& slot) {
        maps.values.insert(maps.values.end(), slot.maps.begin(), slot.maps.end());
    });
    if (by_words) merge_into_words(maps, words::family_of_model_type(input.config.model_type));
    return maps;
}

std::string resolve_head(const Maps& maps, const std::string& head_spec) {
    if (head_spec == "mean" || head_spec == "max") return head_spec;
    const std::vector<int> heads = parse_selection("head", head_spec, maps.n_head);
    if (heads.size() != 1 || head_spec == "all")
        throw Error("--head takes one head, mean or max (got '" + head_spec + "')");
    return std::to_string(heads.front());
}

std::vector<float> select_map(const Maps& maps, int layer, const std::string& head_spec) {
    const size_t n = size_t(maps.seq) * size_t(maps.seq);
    if (head_spec == "mean" || head_spec == "max") {
        std::vector<float> out(n, head_spec == "max" ? -1e30f : 0.0f);
        for (int h = 0; h < maps.n_head; ++h) {
            const auto m = maps.map(layer, h);
            for (size_t i = 0; i < n; ++i)
                out[i] = head_spec == "max" ? std::max(out[i], m[i]) : out[i] + m[i] / maps.n_head;
        }
        return out;
    }
    const auto m = maps.map(layer, std::stoi(resolve_head(maps, head_spec)));
    return {m.begin(), m.end()};
}

}  // namespace headmap::cli
