// Fuzz target: GPT-2 / RoBERTa byte-level BPE from vocab.json + merges.txt (tokenizer/gpt2_bpe.*,
// through Tokenizer::from_files). The input is the two files cut by fuzz::kSeparator. A tokenizer
// that loads must encode a few texts into ids it can name.
#include <cstdint>
#include <string>
#include <string_view>

using namespace std::literals;

#include "fuzz_support.h"
#include "json_mutator.h"
#include "tokenizer/tokenizer.h"

namespace {

void exercise(const headmap::Tokenizer& tokenizer) {
    static constexpr std::string_view kTexts[] = {
        "Hello world"sv, " <|endoftext|> it's 12 apples\n"sv, "<s>x</s><pad> <mask>"sv,
        "\xe2\x82\xac\xff caf\xc3\xa9"sv};
    for (const std::string_view text : kTexts) {
        const headmap::Encoding encoding = tokenizer.encode(text);
        for (const int32_t id : encoding.ids) {
            if (id < 0 || id >= tokenizer.vocab_size()) fuzz::broken("an id outside the vocab");
            (void)tokenizer.token_string(id);
        }
        (void)tokenizer.encode_pair(text, "second text", 5);
    }
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned seed) {
    // vocab.json is JSON; merges.txt is lines, left to libFuzzer's mutation.
    if (seed % 2) return fuzz::mutate_json_part(data, size, max_size, 2, 0, seed);
    return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<std::string_view> parts = fuzz::split_parts(fuzz::text_of(data, size), 2);
    headmap::TokenizerFiles files;
    files.dir = "fuzz";
    files.vocab_json = std::string(parts[0]);
    files.merges_txt = std::string(parts[1]);
    for (const char* model_type : {"gpt2", "roberta"}) {
        try {
            exercise(headmap::Tokenizer::from_files(files, model_type));
        } catch (const headmap::Error&) {
        }
    }
    return 0;
}
