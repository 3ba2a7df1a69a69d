// Fuzz target: text encoding with the real vocabularies, loaded once: GPT-2 (weights/gpt2),
// bert-base-uncased (weights/bert-base-uncased) and a RoBERTa (tests/data/roberta-tiny). The first
// byte picks the tokenizer, the second a truncation length (0: none); the rest is the text, and
// fuzz::kSeparator in it makes a sentence pair. Checked:
//  - every id is inside the vocabulary and has a token string;
//  - byte-level BPE (GPT-2, RoBERTa) gives back the text: decode(encode(x)) == x for valid UTF-8;
//  - truncation keeps at most the length asked for, special tokens included.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/tokenizer_dir.h"
#include "fuzz_support.h"
#include "tokenizer/gpt2_bpe.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

struct Loaded {
    headmap::Tokenizer tokenizer;
    std::unique_ptr<headmap::Gpt2Tokenizer> bpe;  // byte-level ones, for decode()
};

Loaded load(const std::filesystem::path& dir, const char* model_type) {
    const headmap::TokenizerFiles files = headmap::read_tokenizer_files(dir);
    Loaded loaded{headmap::Tokenizer::from_files(files, model_type), nullptr};
    if (std::string_view(model_type) == "gpt2")
        loaded.bpe = std::make_unique<headmap::Gpt2Tokenizer>(
            headmap::Gpt2Tokenizer::from_files(files, headmap::kGpt2SpecialTokens));
    if (std::string_view(model_type) == "roberta")
        loaded.bpe = std::make_unique<headmap::Gpt2Tokenizer>(
            headmap::Gpt2Tokenizer::from_files(files, headmap::kRobertaSpecialTokens));
    return loaded;
}

const std::vector<Loaded>& tokenizers() {
    static const std::vector<Loaded> all = [] {
        const std::filesystem::path source = HEADMAP_SOURCE_DIR;
        std::vector<Loaded> out;
        out.push_back(load(source / "weights" / "gpt2", "gpt2"));
        out.push_back(load(source / "weights" / "bert-base-uncased", "bert"));
        out.push_back(load(source / "tests" / "data" / "roberta-tiny", "roberta"));
        return out;
    }();
    return all;
}

void check_ids(const headmap::Tokenizer& tokenizer, const headmap::Encoding& encoding) {
    if (encoding.ids.size() != encoding.type_ids.size()) fuzz::broken("ids and type ids differ");
    for (const int32_t id : encoding.ids) {
        if (id < 0 || id >= tokenizer.vocab_size()) fuzz::broken("an id outside the vocabulary");
        (void)tokenizer.token_string(id);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    tokenizers();  // the files are read once, before the first input
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const Loaded& loaded = tokenizers()[data[0] % 3];
    const size_t max_tokens = data[1];
    const std::string_view text = fuzz::text_of(data + 2, size - 2);
    const std::vector<std::string_view> pair = fuzz::split_parts(text, 2);
    try {
        const headmap::Encoding whole = loaded.tokenizer.encode(text);
        check_ids(loaded.tokenizer, whole);
        if (loaded.bpe) {
            const std::vector<int32_t> ids = loaded.bpe->encode(text);
            if (headmap::utf8::sanitize(text) == text && loaded.bpe->decode(ids) != text)
                fuzz::broken("decode(encode(text)) is not the text");
        }
        if (max_tokens > 4) {
            const headmap::Encoding cut = loaded.tokenizer.encode(text, max_tokens);
            check_ids(loaded.tokenizer, cut);
            if (cut.ids.size() > max_tokens) fuzz::broken("truncation kept too many tokens");
            const headmap::Encoding pair_cut =
                loaded.tokenizer.encode_pair(pair[0], pair[1], max_tokens);
            check_ids(loaded.tokenizer, pair_cut);
            if (pair_cut.ids.size() > max_tokens) fuzz::broken("pair truncation kept too many");
        } else {
            check_ids(loaded.tokenizer, loaded.tokenizer.encode_pair(pair[0], pair[1]));
        }
    } catch (const headmap::Error&) {
    }
    return 0;
}
