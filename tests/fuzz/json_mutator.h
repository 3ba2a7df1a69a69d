// Structure-aware mutation for the JSON targets (config.json, tokenizer.json, the index...): plain
// byte flips rarely keep JSON valid, so they stop at the syntax check and never reach the checks
// on values. This parses the input with nlohmann, changes one value (boundary numbers, number-like
// strings, wrong types, deep nesting, removed, copied or renamed members) and serialises it again.
// A third of the time, and whenever the input is not JSON, libFuzzer's own mutation runs instead
// (it also applies the -dict entries).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

// libFuzzer's own mutation (a stub in replay_main.cpp, where nothing mutates).
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace fuzz {

// Mutates `input` (at most `max_size` bytes) as JSON; the result, or libFuzzer's byte mutation.
std::string mutate_json(std::string input, size_t max_size, unsigned seed);

// A whole input mutated as JSON, in place, for LLVMFuzzerCustomMutator: the new size.
size_t mutate_json_input(uint8_t* data, size_t size, size_t max_size, unsigned seed);

// For inputs of several parts (fuzz_support.h's split_parts): part `index` of `parts` mutated as
// JSON and the parts joined again, in place; libFuzzer's mutation when the result does not fit.
size_t mutate_json_part(uint8_t* data, size_t size, size_t max_size, size_t parts, size_t index,
                        unsigned seed);

}  // namespace fuzz
