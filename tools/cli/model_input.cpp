#include "tools/cli/model_input.h"

#include <sstream>

#include "engine/model_files.h"
#include "engine/read_file.h"
#include "engine/tokenizer_dir.h"
#include "headmap/error.hpp"
#include "tokenizer/truncation.h"

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

namespace {

// A pair's tokens before the second text, out of the `total` ids encode_pair gave: the first
// text's tokens after the same longest_first truncation (truncate_pair_lengths), plus the special
// tokens in front of the second text.
int first_segment_tokens(const Tokenizer& tokenizer, const std::string& first,
                         const std::string& second, size_t total) {
    const size_t frame = tokenizer.encode("").ids.size();  // specials around one text
    const size_t pair_frame = tokenizer.encode_pair("", "").ids.size();
    const size_t a = tokenizer.encode(first).ids.size() - frame;
    const size_t b = tokenizer.encode(second).ids.size() - frame;
    return int(truncate_pair_lengths(a, b, total - pair_frame).first + frame);
}

}  // namespace

ModelInput read_model_input(const Args& args, bool truncate) {
    const std::filesystem::path model_dir = resolve_model_dir(args.required("model"));
    ModelConfig config = load_model_config(model_dir / "config.json");
    const std::filesystem::path tokenizer_dir = args.get("tokenizer").value_or(model_dir.string());
    Tokenizer tokenizer = load_tokenizer_dir(tokenizer_dir, config.model_type);

    std::vector<TextLine> texts;
    if (args.get("texts")) {
        if (args.get("text") || args.get("pair"))
            throw Error(
                "--texts cannot be combined with --text or --pair (a tab in a line of the "
                "file makes a pair)");
        texts = read_texts_file(*args.get("texts"));
    } else {
        texts.push_back({0, args.required("text"), args.get("pair")});
    }

    const size_t max_tokens = size_t(config.max_tokens());
    ModelInput input{model_dir, std::move(config), std::move(tokenizer), {}, {}, {}, 0};
    for (const auto& [line, first, second] : texts) {
        const size_t limit = truncate ? max_tokens : 0;
        Encoding encoding = second ? input.tokenizer.encode_pair(first, *second, limit)
                                   : input.tokenizer.encode(first, limit);
        const std::string which =
            line == 0 ? std::string("text") : "text on line " + std::to_string(line);
        if (encoding.ids.empty())
            throw Error("the " + which + " gives no tokens (expected a non-empty text)");
        if (encoding.ids.size() > max_tokens)
            throw Error("the " + which + " is " + std::to_string(encoding.ids.size()) +
                        " tokens, more than the model's " + std::to_string(max_tokens) +
                        " positions (shorten it or pass --truncate)");
        for (int32_t id : encoding.ids)
            if (id >= input.config.vocab_size)
                throw Error("token id " + std::to_string(id) +
                            " from the tokenizer is outside the model's vocab_size " +
                            std::to_string(input.config.vocab_size) +
                            " (tokenizer and model do not match)");
        input.longest = std::max(input.longest, encoding.ids.size());
        input.splits.push_back(
            second ? first_segment_tokens(input.tokenizer, first, *second, encoding.ids.size())
                   : -1);
        input.inputs.push_back(std::move(encoding));
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
