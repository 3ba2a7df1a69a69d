#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "headmap/error.hpp"

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

template <typename OnChunk>
void Tokenizer::for_each_chunk(std::string_view text, size_t first_chunk,
                               OnChunk&& on_chunk) const {
    // Chunks grow from `first_chunk` bytes to 1 MiB, each cut where the tokenizer says the ids
    // do not change (next_cut); a text without such a place is one chunk.
    constexpr size_t kLargestChunk = size_t{1} << 20;
    size_t chunk = std::min(first_chunk, kLargestChunk);
    while (!text.empty()) {
        size_t cut = std::string_view::npos;
        if (text.size() > chunk)
            cut = std::visit([&](const auto& impl) { return impl.next_cut(text, chunk); }, impl_);
        const std::string_view piece = text.substr(0, cut);
        text.remove_prefix(piece.size());
        if (!on_chunk(encode_plain(piece), text)) return;
        chunk = std::min(chunk * 2, kLargestChunk);
    }
}

Tokenizer::Limited Tokenizer::encode_limited(std::string_view text, size_t wanted) const {
    Limited out;
    for_each_chunk(text, std::max<size_t>(4096, wanted * 16),
                   [&](std::vector<int32_t> ids, std::string_view rest) {
                       out.ids.insert(out.ids.end(), ids.begin(), ids.end());
                       out.rest = rest;
                       return out.ids.size() < wanted;
                   });
    out.count = out.ids.size();
    return out;
}

size_t Tokenizer::count_ids(std::string_view text) const {
    size_t count = 0;
    for_each_chunk(text, size_t{1} << 16, [&](std::vector<int32_t> ids, std::string_view) {
        count += ids.size();
        return true;
    });
    return count;
}

Encoding Tokenizer::encode(std::string_view text, size_t max_tokens) const {
    if (max_tokens == 0) return assemble(encode_plain(text), std::nullopt, 0);
    // Truncating: only ids that can survive are needed, so a long text is encoded chunk by chunk
    // until there are enough (a 200 MB text no longer costs gigabytes for 512 ids).
    Limited limited = encode_limited(text, max_tokens + 1);
    return assemble(std::move(limited.ids), std::nullopt, max_tokens);
}

Encoding Tokenizer::encode_pair(std::string_view first, std::string_view second,
                                size_t max_tokens) const {
    if (max_tokens == 0) return assemble(encode_plain(first), encode_plain(second), 0);
    Limited a = encode_limited(first, max_tokens + 1), b = encode_limited(second, max_tokens + 1);
    // Both texts past the budget: the longer one keeps the odd token, so which is longer must be
    // known exactly. Count the rest chunk by chunk (bounded memory) instead of keeping it.
    if (!a.rest.empty() && !b.rest.empty()) {
        a.count += count_ids(a.rest);
        b.count += count_ids(b.rest);
    }
    return assemble(std::move(a.ids), std::move(b.ids), max_tokens, PairLengths{a.count, b.count});
}

Encoding Tokenizer::assemble(std::vector<int32_t> first, std::optional<std::vector<int32_t>> second,
                             size_t max_tokens, std::optional<PairLengths> lengths) const {
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
            const PairLengths full = lengths.value_or(PairLengths{first.size(), second->size()});
            const PairLengths kept = truncate_pair_lengths(full.first, full.second, budget);
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
            out.split = out.ids.size();
            if (pair) append(*second, 0);
            break;
        case Specials::Bert:
            special(begin_id_, 0);
            append(first, 0);
            special(end_id_, 0);
            out.split = out.ids.size();
            if (pair) {
                append(*second, 1);
                special(end_id_, 1);
            }
            break;
        case Specials::Roberta:
            special(begin_id_, 0);
            append(first, 0);
            special(end_id_, 0);
            out.split = out.ids.size();
            if (pair) {
                special(end_id_, 0);
                append(*second, 0);
                special(end_id_, 0);
            }
            break;
    }
    if (!pair) out.split = 0;
    return out;
}

std::string Tokenizer::token_string(int32_t id) const {
    return std::visit([&](const auto& impl) { return impl.token_string(id); }, impl_);
}

int Tokenizer::vocab_size() const {
    return std::visit([&](const auto& impl) { return impl.vocab_size(); }, impl_);
}

}  // namespace headmap
