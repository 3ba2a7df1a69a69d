// Word-level attention maps (--words): sub-word tokens grouped into the tokenizer's words, and maps
// merged over those words.
//
// The merge rule. Attention received by a word's pieces is summed over the pieces' columns,
// attention given by a word's pieces is averaged over the pieces' rows:
//   M[a][b] = mean_{i in word a} sum_{j in word b} A[i][j]
// so every row of M still sums to 1, and since words are runs of consecutive tokens, a causal map
// stays causal (M[a][b] = 0 exactly for b > a).
//
// What is a word: exactly what Hugging Face's encoding.word_ids() groups (tested against it,
// tests/data/words/):
//   - WordPiece (bert, distilbert): a token starting with "##" continues the previous word; every
//     other token starts one.
//   - Byte-level BPE (gpt2, roberta): the GPT-2 pre-tokenizer's pieces ('s 't ..., " ?\p{L}+",
//     " ?\p{N}+", " ?[^\s\p{L}\p{N}]+", whitespace runs). BPE tokens never cross a piece, so the
//     tokens' bytes are joined, split again by the pre-tokenizer, and each token goes to the piece
//     its first byte lies in. Runs between special tokens are split separately, as HF splits
//     the text around added tokens first.
//   - Special tokens ([CLS] [SEP] [PAD] [MASK] [UNK], <s> </s> <pad> <unk> <mask> <|endoftext|>)
//     are each a word of their own.
//   - A forced boundary (a sentence pair's second text) always starts a word: joined, "Hello" and
//     "world" would read as one piece.
// The label of a word is its pieces joined: "##" dropped from WordPiece continuations; the
// byte-level 'Ġ' of the first piece kept (viz::display_token shows it as a visible space).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace headmap::words {

enum class TokenFamily { WordPiece, ByteLevel };

// "bert", "distilbert" -> WordPiece; "gpt2", "roberta" -> ByteLevel; else headmap::Error.
TokenFamily family_of_model_type(std::string_view model_type);

// The family of saved maps' token strings (--from with --tokens), first rule that applies:
//   1. WordPiece when a token is [CLS] or [SEP], or "##" followed by a character other than '#'
//      (GPT-2's vocabulary has "##", "###", ... but no "##x");
//   2. ByteLevel when a token holds a byte-level stand-in character (U+0100 to U+0143: 'Ġ' space,
//      'Ċ' newline, ...) or is <s>, </s> or <|endoftext|>;
//   3. otherwise WordPiece: with no sign of either, every token stays a word of its own (labels
//      such as "a b c" are most likely words already; joined as bytes they would run together).
TokenFamily infer_family(std::span<const std::string> tokens);

// A special token of `family`: always a word of its own.
bool is_special_token(std::string_view token, TokenFamily family);

struct WordGroups {
    std::vector<int> word_of_token;   // (S): the word of each token; 0, then steps of 0 or 1
    std::vector<std::string> labels;  // (W): each word's pieces joined
    int count() const { return int(labels.size()); }
};

// Groups token strings (as the vocabulary spells them: "Ġworld", "##ing", "[CLS]") into words.
// `boundary` in (0, S): token `boundary` starts a word whatever it is (a sentence pair's second
// text); anything else: no forced boundary. Token strings need not be valid UTF-8.
WordGroups group_words(std::span<const std::string> tokens, TokenFamily family, int boundary = -1);

// Merges n_maps (seq, seq) maps into (n_words, n_words) maps by the rule above.
// maps: (n_maps, seq, seq); word_of_token: (seq), starting at 0 and stepping by 0 or 1 up to
// n_words - 1 (words are runs of consecutive tokens). Returns (n_maps, n_words, n_words).
// Throws headmap::Error on mismatched sizes or a word_of_token that is not such runs.
std::vector<float> merge_words(std::span<const float> maps, int n_maps, int seq,
                               std::span<const int> word_of_token, int n_words);

// The same into `out` (n_maps, n_words, n_words), for callers that reuse one buffer per layer
// (the streamed .npy export); allocates only O(n_words) per call.
void merge_words_into(std::span<const float> maps, int n_maps, int seq,
                      std::span<const int> word_of_token, int n_words, std::span<float> out);

}  // namespace headmap::words
