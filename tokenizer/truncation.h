// How many tokens of each text of a sentence pair survive truncation, as Hugging Face's
// `tokenizers` decides it (TruncationStrategy::LongestFirst, used by truncation=True).
#pragma once

#include <cstddef>

namespace headmap {

struct PairLengths {
    size_t first = 0, second = 0;
    bool operator==(const PairLengths&) const = default;
};

// The lengths kept of a pair of `first` and `second` tokens when `budget` tokens are left for
// the two texts (max_length minus the special tokens). Only the ends of the texts are cut, so
// these lengths say everything truncation does.
PairLengths truncate_pair_lengths(size_t first, size_t second, size_t budget);

}  // namespace headmap
