#include "tools/cli/model_input.h"

#include "engine/error.h"
#include "engine/model_files.h"

namespace headmap::cli {

ModelInput read_model_input(const Args& args, bool truncate) {
    const std::filesystem::path model_dir = resolve_model_dir(args.required("model"));
    ModelConfig config = load_model_config(model_dir / "config.json");
    const std::filesystem::path tokenizer_dir = args.get("tokenizer").value_or(model_dir.string());
    Gpt2Tokenizer tokenizer = Gpt2Tokenizer::load_dir(tokenizer_dir);
    std::vector<int32_t> ids = tokenizer.encode(args.required("text"));
    if (ids.empty()) throw Error("--text gives no tokens (expected a non-empty text)");
    if (ids.size() > size_t(config.max_positions)) {
        if (!truncate)
            throw Error("text is " + std::to_string(ids.size()) +
                        " tokens, more than the model's " + std::to_string(config.max_positions) +
                        " positions (shorten it or pass --truncate)");
        ids.resize(size_t(config.max_positions));
    }
    for (int32_t id : ids)
        if (id >= config.vocab_size)
            throw Error("token id " + std::to_string(id) +
                        " from the tokenizer is outside the model's vocab_size " +
                        std::to_string(config.vocab_size) + " (tokenizer and model do not match)");
    return {model_dir, std::move(config), std::move(tokenizer), std::move(ids)};
}

}  // namespace headmap::cli
