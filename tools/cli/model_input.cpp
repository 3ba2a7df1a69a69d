#include "tools/cli/model_input.h"

#include <sstream>

#include "engine/model_files.h"
#include "engine/read_file.h"
#include "headmap/error.hpp"
#include "tools/cli/map_source.h"

namespace headmap::cli {

TextsFile read_texts_file(const std::filesystem::path& path, size_t max_bytes) {
    std::string why;
    std::optional<std::string> bytes = read_regular_file(path, why, max_bytes);
    if (!bytes)
        throw Error("--texts " + path.string() + ": cannot read: " + why +
                    (why.find("over the limit") != std::string::npos ? " (--max-text-bytes)" : "") +
                    " (expected a text file, one text per line)");
    TextsFile file{std::make_unique<const std::string>(std::move(*bytes)), {}};
    const std::string_view text = *file.bytes;
    size_t start = 0;
    for (int number = 1; start < text.size(); ++number) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) continue;
        const size_t tab = line.find('\t');
        if (tab == std::string_view::npos)
            file.lines.push_back({number, line, std::nullopt});
        else
            file.lines.push_back({number, line.substr(0, tab), line.substr(tab + 1)});
    }
    if (file.lines.empty())
        throw Error("--texts " + path.string() + ": no texts (expected one text per line)");
    return file;
}

size_t max_text_bytes(const Args& args) {
    return size_t(args.get_int("max-text-bytes", int(kDefaultMaxTextBytes), 1, INT32_MAX));
}

void check_text_bytes(std::string_view text, std::string_view which, size_t max_bytes) {
    if (text.size() > max_bytes)
        throw Error(std::string(which) + " is " + std::to_string(text.size()) +
                        " bytes, more than --max-text-bytes " + std::to_string(max_bytes) +
                        " (raise it, or pass a shorter text)",
                    Status::OutOfRange);
}

ModelInputRequest model_input_request(const Args& args) {
    return {args.get("model").value_or(""),
            args.get("tokenizer").value_or(""),
            args.get("text"),
            args.get("pair"),
            args.get("texts"),
            max_text_bytes(args)};
}

EncodedInput encode_with_cli_message(const Tokenizer& tokenizer, const ModelConfig& config,
                                     const TextInput& text, bool truncate,
                                     const std::string& which) {
    try {
        return encode_input(tokenizer, config, text, truncate, which, SIZE_MAX);
    } catch (const Error& e) {
        if (e.status() != Status::OutOfRange) throw;
        throw Error(std::string(e.what()) + "; pass --truncate to cut it", e.status());
    }
}

ModelInput read_model_input(const ModelInputRequest& request, bool truncate) {
    TextsFile texts;
    if (request.texts) {
        if (request.text || request.pair)
            throw Error(
                "--texts cannot be combined with --text or --pair (a tab in a line of the "
                "file makes a pair)");
        texts = read_texts_file(*request.texts, request.max_text_bytes);
    } else {
        if (!request.text) throw Error("needs --text or --texts (the text to run the model on)");
        check_text_bytes(*request.text, "--text", request.max_text_bytes);
        if (request.pair) check_text_bytes(*request.pair, "--pair", request.max_text_bytes);
        texts.lines.push_back({0, *request.text, request.pair});
    }
    ModelFiles files = load_model_files(
        request.model.empty() ? default_model_dir().string() : request.model, request.tokenizer);
    ModelInput input{files.dir, std::move(files.config), std::move(files.tokenizer), {}, {}, {}, 0};
    for (const auto& [line, first, second] : texts.lines) {
        const std::string which =
            line == 0 ? std::string("text") : "text on line " + std::to_string(line);
        EncodedInput encoded = encode_with_cli_message(input.tokenizer, input.config,
                                                       {first, second}, truncate, which);
        input.longest = std::max(input.longest, encoded.encoding.ids.size());
        input.splits.push_back(encoded.split);
        input.inputs.push_back(std::move(encoded.encoding));
        input.lines.push_back(line);
    }
    return input;
}

void apply_device_options(const Args& args, EngineOptions& options) {
    const std::string device = args.get("device").value_or("cpu");
    if (device == "cpu")
        options.device = Device::Cpu;
    else if (device == "cuda")
        options.device = Device::Cuda;
    else
        throw Error("--device '" + device + "' (expected cpu or cuda)");
    options.fast = args.flag("fast");
    if (options.fast && options.device != Device::Cuda)
        throw Error("--fast applies to --device cuda (TF32 projections, fp16 maps)");
}

}  // namespace headmap::cli
