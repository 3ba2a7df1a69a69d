// Fuzz target: BERT WordPiece from vocab.txt + tokenizer_config.json (tokenizer/wordpiece.*,
// through Tokenizer::from_files). The input is the two files cut by fuzz::kSeparator; an empty
// second part means no tokenizer_config.json. A tokenizer that loads must encode a few texts into
// ids it can name.
#include <cstdint>
#include <string>
#include <string_view>

using namespace std::literals;

#include "fuzz_support.h"
#include "json_mutator.h"
#include "tokenizer/tokenizer.h"

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned seed) {
    // tokenizer_config.json is JSON; vocab.txt is lines, left to libFuzzer's mutation.
    if (seed % 2) return fuzz::mutate_json_part(data, size, max_size, 2, 1, seed);
    return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<std::string_view> parts = fuzz::split_parts(fuzz::text_of(data, size), 2);
    headmap::TokenizerFiles files;
    files.dir = "fuzz";
    files.vocab_txt = std::string(parts[0]);
    if (!parts[1].empty()) files.tokenizer_config_json = std::string(parts[1]);
    static constexpr std::string_view kTexts[] = {
        "Hello, World! [CLS] x [SEP]"sv, "Caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 unaffable"sv,
        "\xff\x00[MASK][UNK]##ing"sv};
    try {
        const headmap::Tokenizer tokenizer = headmap::Tokenizer::from_files(files, "bert");
        for (const std::string_view text : kTexts) {
            const headmap::Encoding encoding = tokenizer.encode(text);
            for (const int32_t id : encoding.ids) {
                if (id < 0 || id >= tokenizer.vocab_size()) fuzz::broken("an id outside the vocab");
                (void)tokenizer.token_string(id);
            }
            (void)tokenizer.encode_pair(text, "second text", 6);
        }
    } catch (const headmap::Error&) {
    }
    return 0;
}
