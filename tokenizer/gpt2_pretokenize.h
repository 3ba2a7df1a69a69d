// GPT-2's pre-tokenizer split, hand-written instead of using a regex engine. It reproduces what
// Hugging Face tokenizers (Oniguruma) finds for the pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// scanning left to right, alternatives tried in order at each position.
#pragma once

#include <string_view>
#include <vector>

namespace headmap {

// Splits valid UTF-8 into the pieces the pattern matches, in order. The pieces are views into
// `valid_utf8` and concatenate back to it (every character belongs to one alternative's class).
std::vector<std::string_view> gpt2_pretokenize(std::string_view valid_utf8);

}  // namespace headmap
