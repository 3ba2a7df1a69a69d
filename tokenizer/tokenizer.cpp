#include "tokenizer/tokenizer.h"

#include "headmap/error.hpp"
#include "tokenizer/truncation.h"

namespace headmap {
namespace {

int32_t required_token(const std::optional<int32_t>& id, std::string_view token,
                       const std::filesystem::path& dir) {
    if (!id)
        throw Error("tokenizer in '" + dir.string() + "' has no " + std::string(token) +
                    " token (expected one for this model type)");
    return *id;
}

}  // namespace

Tokenizer Tokenizer::from_files(const TokenizerFiles& files, std::string_view model_type) {
    const std::filesystem::path& dir = files.dir;
    Tokenizer tokenizer;
    if (model_type == "gpt2") {
        tokenizer.impl_ = Gpt2Tokenizer::from_files(files, kGpt2SpecialTokens);
    } else if (model_type == "roberta") {
        const Gpt2Tokenizer bpe = Gpt2Tokenizer::from_files(files, kRobertaSpecialTokens);
        tokenizer.specials_ = Specials::Roberta;
        tokenizer.begin_id_ = required_token(bpe.token_id("<s>"), "<s>", dir);
        tokenizer.end_id_ = required_token(bpe.token_id("</s>"), "</s>", dir);
        tokenizer.impl_ = bpe;
    } else if (model_type == "bert" || model_type == "distilbert") {
        const WordPieceTokenizer wordpiece = WordPieceTokenizer::from_files(files);
        tokenizer.specials_ = Specials::Bert;
        tokenizer.begin_id_ = required_token(wordpiece.token_id("[CLS]"), "[CLS]", dir);
        tokenizer.end_id_ = required_token(wordpiece.token_id("[SEP]"), "[SEP]", dir);
        tokenizer.impl_ = wordpiece;
    } else {
        throw Error("no tokenizer for model_type '" + std::string(model_type) +
                    "' (expected gpt2, bert, roberta or distilbert)");
    }
    return tokenizer;
}

std::vector<int32_t> Tokenizer::encode_plain(std::string_view text) const {
    return std::visit([&](const auto& impl) { return impl.encode(text); }, impl_);
}

Encoding Tokenizer::encode(std::string_view text, size_t max_tokens) const {
    return assemble(encode_plain(text), std::nullopt, max_tokens);
}

Encoding Tokenizer::encode_pair(std::string_view first, std::string_view second,
                                size_t max_tokens) const {
    return assemble(encode_plain(first), encode_plain(second), max_tokens);
}

Encoding Tokenizer::assemble(std::vector<int32_t> first, std::optional<std::vector<int32_t>> second,
                             size_t max_tokens) const {
    const bool pair = second.has_value();
    const size_t added = specials_ == Specials::None   ? 0
                         : specials_ == Specials::Bert ? (pair ? 3 : 2)
                                                       : (pair ? 4 : 2);
    if (max_tokens > 0) {
        if (max_tokens <= added)
            throw Error("cannot truncate to " + std::to_string(max_tokens) +
                        " tokens: the special tokens alone need " + std::to_string(added));
        // What the special tokens leave; each text keeps its start, as HF truncates on the right.
        const size_t budget = max_tokens - added;
        if (pair) {
            const PairLengths kept = truncate_pair_lengths(first.size(), second->size(), budget);
            first.resize(kept.first);
            second->resize(kept.second);
        } else if (first.size() > budget) {
            first.resize(budget);
        }
    }
    Encoding out;
    const auto append = [&](const std::vector<int32_t>& ids, int32_t type) {
        out.ids.insert(out.ids.end(), ids.begin(), ids.end());
        out.type_ids.insert(out.type_ids.end(), ids.size(), type);
    };
    const auto special = [&](int32_t id, int32_t type) {
        out.ids.push_back(id);
        out.type_ids.push_back(type);
    };
    switch (specials_) {
        case Specials::None:
            append(first, 0);
            if (pair) append(*second, 0);
            break;
        case Specials::Bert:
            special(begin_id_, 0);
            append(first, 0);
            special(end_id_, 0);
            if (pair) {
                append(*second, 1);
                special(end_id_, 1);
            }
            break;
        case Specials::Roberta:
            special(begin_id_, 0);
            append(first, 0);
            special(end_id_, 0);
            if (pair) {
                special(end_id_, 0);
                append(*second, 0);
                special(end_id_, 0);
            }
            break;
    }
    return out;
}

std::string Tokenizer::token_string(int32_t id) const {
    return std::visit([&](const auto& impl) { return impl.token_string(id); }, impl_);
}

int Tokenizer::vocab_size() const {
    return std::visit([&](const auto& impl) { return impl.vocab_size(); }, impl_);
}

}  // namespace headmap
