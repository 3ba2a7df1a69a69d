#include "tools/cli/model_input.h"

#include <sstream>

#include "engine/model_files.h"
#include "engine/read_file.h"
#include "headmap/error.hpp"
#include "tools/cli/map_source.h"

namespace headmap::cli {

std::vector<TextLine> read_texts_file(const std::filesystem::path& path) {
    std::string why;
    const std::optional<std::string> bytes = read_regular_file(path, why);
    if (!bytes)
        throw Error("--texts " + path.string() + ": cannot read: " + why +
                    " (expected a text file, one text per line)");
    std::istringstream in(*bytes);
    std::vector<TextLine> texts;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        const size_t tab = line.find('\t');
        if (tab == std::string::npos)
            texts.push_back({number, line, std::nullopt});
        else
            texts.push_back({number, line.substr(0, tab), line.substr(tab + 1)});
    }
    if (texts.empty())
        throw Error("--texts " + path.string() + ": no texts (expected one text per line)");
    return texts;
}

ModelInputRequest model_input_request(const Args& args) {
    return {args.get("model").value_or(""), args.get("tokenizer").value_or(""), args.get("text"),
            args.get("pair"), args.get("texts")};
}

EncodedInput encode_with_cli_message(const Tokenizer& tokenizer, const ModelConfig& config,
                                     const TextInput& text, bool truncate,
                                     const std::string& which) {
    try {
        return encode_input(tokenizer, config, text, truncate, which);
    } catch (const Error& e) {
        if (e.status() != Status::OutOfRange) throw;
        throw Error(std::string(e.what()) + "; pass --truncate to cut it", e.status());
    }
}

ModelInput read_model_input(const ModelInputRequest& request, bool truncate) {
    std::vector<TextLine> texts;
    if (request.texts) {
        if (request.text || request.pair)
            throw Error(
                "--texts cannot be combined with --text or --pair (a tab in a line of the "
                "file makes a pair)");
        texts = read_texts_file(*request.texts);
    } else {
        if (!request.text) throw Error("needs --text or --texts (the text to run the model on)");
        texts.push_back({0, *request.text, request.pair});
    }
    ModelFiles files = load_model_files(
        request.model.empty() ? default_model_dir().string() : request.model, request.tokenizer);
    ModelInput input{files.dir, std::move(files.config), std::move(files.tokenizer), {}, {}, {}, 0};
    for (const auto& [line, first, second] : texts) {
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
