// The CLI's side of the capture pipeline: options in, the library's calls out
// (engine/capture: load_model_files, encode_input, capture, read_saved_maps).
#include "tools/cli/map_source.h"

#include <sstream>

#include "engine/capture/capture.h"
#include "engine/capture/saved_maps.h"
#include "engine/model_files.h"
#include "engine/output_file.h"
#include "engine/read_file.h"
#include "headmap/error.hpp"
#include "tools/cli/model_input.h"

namespace headmap::cli {
namespace fs = std::filesystem;

fs::path default_model_dir() {
    try {
        return headmap::default_model_dir();
    } catch (const Error& e) {
        throw Error(std::string("no --model given: ") + e.what() + "; pass --model DIR|ID");
    }
}

namespace {

std::vector<std::string> read_tokens(const std::string& spec) {
    std::vector<std::string> tokens;
    std::error_code ec;
    if (fs::is_regular_file(spec, ec)) {  // one token per line
        std::string why;
        const std::optional<std::string> bytes = read_regular_file(spec, why);
        if (!bytes) throw Error("--tokens " + spec + ": cannot read: " + why);
        std::istringstream in(*bytes);
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
    return tokens;
}

Maps maps_from_file(const Args& args, const fs::path& path, const std::string& layer_selection) {
    const std::string where = "--from " + path.string();
    const std::optional<SavedMapsFormat> format = saved_maps_format_for(path);
    if (!format) throw Error(where + ": unsupported file (expected .npy, .npz or .safetensors)");
    std::string why;
    const std::optional<std::string> bytes = read_regular_file(path, why);
    if (!bytes) throw Error(where + ": cannot read: " + why);
    Maps maps = read_saved_maps(std::as_bytes(std::span(bytes->data(), bytes->size())), *format,
                                {args.get("tensor").value_or(""), layer_selection}, where);
    maps.name = path.filename().string();
    if (args.get("split")) maps.split = args.get_int("split", -1, 1, maps.seq - 1);
    if (auto spec = args.get("tokens")) {
        std::vector<std::string> tokens = read_tokens(*spec);
        if (int(tokens.size()) != maps.seq)
            throw Error("--tokens gives " + std::to_string(tokens.size()) +
                        " tokens, but the maps are " + std::to_string(maps.seq) + " x " +
                        std::to_string(maps.seq) + " (expected one token per row)");
        set_tokens(maps, std::move(tokens));
    }
    return maps;
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
    const std::string model =
        model_override ? *model_override : args.get("model").value_or(default_model_dir().string());
    const ModelFiles files = load_model_files(model, args.get("tokenizer").value_or(""));
    const std::string first = text_override ? *text_override : args.required("text");
    const std::optional<std::string> pair = args.get("pair");
    const size_t max_bytes = max_text_bytes(args);
    check_text_bytes(first, "--text", max_bytes);
    if (pair) check_text_bytes(*pair, "--pair", max_bytes);
    const TextInput text{first, pair ? std::optional<std::string_view>(*pair) : std::nullopt};
    const EncodedInput input =
        encode_with_cli_message(files.tokenizer, files.config, text, truncate, "text");

    EngineOptions options;
    options.max_seq = int(input.encoding.ids.size());
    apply_device_options(args, options);
    Engine engine = Engine::load(files.dir, options);
    CaptureOptions capture_options;
    capture_options.layers = layer_selection;
    capture_options.words = by_words;
    return capture(engine, files, input, capture_options);
}

}  // namespace headmap::cli
