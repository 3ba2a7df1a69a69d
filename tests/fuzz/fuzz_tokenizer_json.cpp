// Fuzz target: tokenizer.json, read by both loaders (tokenizer/gpt2_bpe.* for gpt2 and roberta,
// tokenizer/wordpiece.* for bert), through Tokenizer::from_files. A tokenizer that loads must
// encode a few texts into ids it can name.
#include <cstdint>
#include <string>
#include <string_view>

using namespace std::literals;

#include "fuzz_support.h"
#include "json_mutator.h"
#include "tokenizer/tokenizer.h"

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned seed) {
    return fuzz::mutate_json_input(data, size, max_size, seed);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    headmap::TokenizerFiles files;
    files.dir = "fuzz";
    files.tokenizer_json = std::string(fuzz::text_of(data, size));
    static constexpr std::string_view kTexts[] = {"Hello world, it's [CLS] <s> <|endoftext|>"sv,
                                                  "caf\xc3\xa9 \xe4\xb8\xad \xff\x00 12345"sv};
    for (const char* model_type : {"gpt2", "roberta", "bert"}) {
        try {
            const headmap::Tokenizer tokenizer = headmap::Tokenizer::from_files(files, model_type);
            for (const std::string_view text : kTexts) {
                const headmap::Encoding encoding = tokenizer.encode(text);
                for (const int32_t id : encoding.ids) {
                    if (id < 0 || id >= tokenizer.vocab_size())
                        fuzz::broken("an id outside the vocab");
                    (void)tokenizer.token_string(id);
                }
            }
        } catch (const headmap::Error&) {
        }
    }
    return 0;
}
