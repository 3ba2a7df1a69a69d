// headmap make-random: writes a random-weight checkpoint of a named shape in the Hugging Face
// layout (config.json, model.safetensors, and the tokenizer files when available), for
// benchmarks and cold-start measurements without downloading real weights.
#include <fstream>

#include "engine/engine.h"
#include "engine/output_file.h"
#include "engine/safetensors.h"
#include "headmap/error.hpp"
#include "tools/cli/args.h"
#include "tools/cli/commands.h"

namespace headmap::cli {

int cmd_make_random(const Args& args) {
    const ModelConfig config = preset_config(args.get("config").value_or("gpt2"));
    const std::filesystem::path out = args.required("out");
    const std::string dtype_name = args.get("dtype").value_or("f32");
    DType dtype;
    if (dtype_name == "f32")
        dtype = DType::F32;
    else if (dtype_name == "f16")
        dtype = DType::F16;
    else if (dtype_name == "bf16")
        dtype = DType::BF16;
    else
        throw Error("--dtype '" + dtype_name + "' (expected f32, f16 or bf16)");

    const uint64_t seed = uint64_t(args.get_int("seed", 1234, 0, 1 << 30));  // checked before mkdir

    // The shipped tokenizer that matches the shape's vocabulary, unless --tokenizer names one. A
    // named one must hold tokenizer files (checked before anything is written): a typo once gave
    // a model that could not tokenize, with exit 0.
    std::string default_tokenizer;
    if (config.model_type == "gpt2") default_tokenizer = "weights/gpt2";
    if (config.model_type == "bert" || config.model_type == "distilbert")
        default_tokenizer = "weights/bert-base-uncased";
    const std::filesystem::path tokenizer = args.get("tokenizer").value_or(default_tokenizer);
    std::vector<std::string> tokenizer_files;
    std::error_code ec;
    for (const char* name :
         {"vocab.json", "merges.txt", "tokenizer.json", "vocab.txt", "tokenizer_config.json"})
        if (!tokenizer.empty() && std::filesystem::is_regular_file(tokenizer / name, ec))
            tokenizer_files.push_back(name);
    if (args.get("tokenizer") && tokenizer_files.empty())
        throw Error("--tokenizer " + tokenizer.string() +
                    ": no tokenizer files there (expected tokenizer.json, vocab.json and "
                    "merges.txt, or vocab.txt)");

    // What this run creates, removed again if it fails, so a failure leaves no partial model
    // (files that were there before the run are left alone).
    struct Undo {
        std::filesystem::path dir;
        bool dir_created = false, done = false;
        std::vector<std::filesystem::path> files;
        ~Undo() {
            if (done) return;
            std::error_code ignored;
            for (const auto& file : files) std::filesystem::remove(file, ignored);
            if (dir_created) std::filesystem::remove(dir, ignored);  // only if left empty
        }
    } undo;
    undo.dir = out;
    undo.dir_created = !std::filesystem::exists(out, ec);
    // A path that did not exist joins the undo list before its write (a copy that fails half-way
    // leaves a partial file).
    const auto tracked = [&](const std::filesystem::path& path, const auto& write) {
        if (!std::filesystem::exists(path, ec)) undo.files.push_back(path);
        write();
    };
    std::filesystem::create_directories(out, ec);
    if (ec) throw Error("cannot create " + out.string() + ": " + ec.message());

    const ArchSpec& arch = arch_for(config.model_type);
    ModelWeights weights;
    const std::vector<float> data = bind_random_weights(config, arch, weights, seed);
    // bind_random_weights stores tensors in weight_slots() order; walk the same list for names.
    ModelWeights unused;
    std::vector<TensorToWrite> tensors;
    size_t offset = 0;
    for (const WeightSlot& slot : weight_slots(config, arch, unused)) {
        const size_t numel = slot.numel();
        tensors.push_back(
            {slot.name, dtype, slot.shape, std::span<const float>(data).subspan(offset, numel)});
        offset += numel;
    }
    tracked(out / "model.safetensors",
            [&] { write_safetensors(out / "model.safetensors", tensors); });

    const std::string text = model_config_json(config);
    tracked(out / "config.json", [&] {
        AtomicOutputFile config_file(out / "config.json");
        config_file.write(std::as_bytes(std::span(text)));
        config_file.commit();
    });

    for (const std::string& name : tokenizer_files) {
        tracked(out / name, [&] {
            std::filesystem::copy_file(tokenizer / name, out / name,
                                       std::filesystem::copy_options::overwrite_existing, ec);
            if (ec) throw Error("cannot copy " + (tokenizer / name).string() + ": " + ec.message());
        });
    }
    undo.done = true;
    return 0;
}

}  // namespace headmap::cli
