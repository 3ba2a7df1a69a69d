// One tokenizer for every model family: picks byte-level BPE or WordPiece from the model's
// model_type and adds the special tokens the Hugging Face tokenizer adds
// (add_special_tokens=True):
//   gpt2:             A            and  A B                       (no special tokens)
//   bert, distilbert: [CLS] A [SEP]  and  [CLS] A [SEP] B [SEP]  (type ids 0..., then 1...)
//   roberta:          <s> A </s>     and  <s> A </s></s> B </s>   (type ids all 0)
// Immutable after loading; encode is safe to call from several threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tokenizer/gpt2_bpe.h"
#include "tokenizer/tokenizer_files.h"
#include "tokenizer/truncation.h"
#include "tokenizer/wordpiece.h"

namespace headmap {

struct Encoding {
    std::vector<int32_t> ids;
    std::vector<int32_t> type_ids;  // one per id: 0 for the first text, 1 for the second (BERT)
    // A pair's tokens before the second text: the first text with its frame ("[CLS] A [SEP]",
    // "<s> A </s>", "A"); 0 for a single text.
    size_t split = 0;
};

class Tokenizer {
  public:
    // The tokenizer of a model of `model_type` ("gpt2", "bert", "roberta", "distilbert") from
    // its files' bytes (engine/tokenizer_dir.h reads a directory into them). Throws
    // headmap::Error naming what is missing or malformed.
    static Tokenizer from_files(const TokenizerFiles& files, std::string_view model_type);

    // `max_tokens` > 0 truncates the text(s) so the result, special tokens included, fits, as
    // HF's truncation=True (longest_first for pairs) does; 0 keeps everything.
    Encoding encode(std::string_view text, size_t max_tokens = 0) const;
    Encoding encode_pair(std::string_view first, std::string_view second,
                         size_t max_tokens = 0) const;

    std::string token_string(int32_t id) const;  // "Ġworld", "##ing", "[CLS]"
    int vocab_size() const;

  private:
    enum class Specials { None, Bert, Roberta };
    std::vector<int32_t> encode_plain(std::string_view text) const;
    // Cuts `text` where the ids do not change and encodes it chunk by chunk;
    // on_chunk(ids, rest of the text) returns false to stop.
    template <typename OnChunk>
    void for_each_chunk(std::string_view text, size_t first_chunk, OnChunk&& on_chunk) const;
    struct Limited {
        std::vector<int32_t> ids;  // the first ids of the text: at least `wanted`, or all
        size_t count = 0;          // ids.size(), plus the rest's once counted
        std::string_view rest;     // the text not encoded (empty: ids are all of it)
    };
    Limited encode_limited(std::string_view text, size_t wanted) const;
    size_t count_ids(std::string_view text) const;
    // `lengths`: the texts' full id counts when `first`/`second` hold only their first ids.
    Encoding assemble(std::vector<int32_t> first, std::optional<std::vector<int32_t>> second,
                      size_t max_tokens, std::optional<PairLengths> lengths = std::nullopt) const;

    std::variant<Gpt2Tokenizer, WordPieceTokenizer> impl_;
    Specials specials_ = Specials::None;
    int32_t begin_id_ = -1, end_id_ = -1;  // [CLS]/[SEP] or <s>/</s>
};

}  // namespace headmap
