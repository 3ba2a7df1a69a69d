#include "tokenizer/truncation.h"

#include <algorithm>

namespace headmap {

PairLengths truncate_pair_lengths(size_t first, size_t second, size_t budget) {
    if (first + second <= budget) return {first, second};
    // HF's truncate_encodings (tokenizers/src/utils/truncation.rs), rule for rule, because
    // removing one token at a time from the longer text does not give the same lengths: the
    // longer text is cut to what the shorter one leaves, and when that is not enough each gets
    // half the budget, the longer one taking the odd token. HF swaps the texts only when the
    // first is strictly longer, so on a tie the second text counts as the longer one. (BERT,
    // 256 + 255 tokens at 512 positions, budget 509: 255 + 254 are kept, not 254 + 255.)
    const bool first_longer = first > second;
    const size_t shorter = first_longer ? second : first;
    size_t kept_shorter = shorter;
    size_t kept_longer = shorter > budget ? shorter : std::max(shorter, budget - shorter);
    if (kept_shorter + kept_longer > budget) {
        kept_shorter = budget / 2;
        kept_longer = kept_shorter + budget % 2;
    }
    if (first_longer) return {kept_longer, kept_shorter};
    return {kept_shorter, kept_longer};
}

}  // namespace headmap
