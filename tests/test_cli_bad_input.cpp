// End-to-end tests of the headmap CLI on every kind of bad input, each ending in exactly one
// "headmap: error: ..." line, exit code 2, no crash and no output or temporary file left behind.
// Hostile checkpoints are built in temp dirs from gpt2-tiny (cli_hostile_checkpoints.h). CLI runs
// that are independent go a few at a time (run_many), and failures unrelated to tokenization use
// a 256-token byte tokenizer, so the suite stays within a few seconds.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cli_hostile_checkpoints.h"
#include "cli_test_support.h"
#include "engine/safetensors.h"
#include "test_support.h"

using namespace cli_test;

namespace {

// A text longer than 64 tokens whose first 64 tokens are case6's (case6 ends in a word, and
// " attends" starts a new pre-token).
std::string long_text(const Expected& e) {
    return e.text(6) + " attends to itself and to every earlier position, never to later ones.";
}

}  // namespace

// ============================================================================================
// 3. bad input
// ============================================================================================

TEST_CASE("bad checkpoint: a hand-written copy of the weights loads (sanity for the cases below)") {
    // write_raw and write_safetensors rebuild a loadable model: the failures below come from the
    // one defect each case injects, not from the way the file was rebuilt.
    TinyCopy raw, rebuilt;
    write_raw(raw.weights(), load_raw(kTiny / "model.safetensors"));
    headmap::write_safetensors(rebuilt.weights(),
                               float_tensors(FloatTiny()));  // BOOL buffers dropped
    const std::vector<CommandResult> results = run_many(
        {export_args(raw.model, kSeed, raw.out), export_args(rebuilt.model, kSeed, rebuilt.out)});
    Expected e(kTiny);
    for (size_t i = 0; i < 2; ++i) {
        INFO((i ? "write_safetensors" : "write_raw"), ": ", results[i].err);
        REQUIRE(results[i].exit_code == 0);
        CHECK(max_diff(read_npy((i ? rebuilt : raw).out), e.attentions(0), 2, 3, 7, range(2),
                       range(3)) <= 1e-5);
    }
}

TEST_CASE("bad checkpoint: truncated model.safetensors") {
    const std::string original = read_file(kTiny / "model.safetensors");
    uint64_t header_length = 0;
    std::memcpy(&header_length, original.data(), 8);
    const auto truncated = [&](size_t size) {
        return
            [&original, size](const fs::path& file) { write_file(file, original.substr(0, size)); };
    };
    expect_failures({
        {"to half its size",
         truncated(original.size() / 2),
         {"out of range of data section", "model.safetensors"}},
        {"to 5 bytes", truncated(5), {"too short for the 8-byte header length"}},
        {"to 0 bytes", truncated(0), {"empty file"}},
        {"to just past the header",
         truncated(8 + header_length),
         {"out of range of data section of 0 bytes"}},
        {"by one byte", truncated(original.size() - 1), {"out of range of data section"}},
    });
}

TEST_CASE("bad checkpoint: header length past the end of the file") {
    const std::string original = read_file(kTiny / "model.safetensors");
    const auto with_length = [&](uint64_t length) {
        return [&original, length](const fs::path& file) {
            std::string bytes = original;
            std::memcpy(bytes.data(), &length, 8);
            write_file(file, bytes);
        };
    };
    expect_failures({
        {"one byte too long", with_length(original.size() - 8 + 1), {"exceeds file size"}},
        {"huge", with_length(~uint64_t(0) - 3), {"exceeds file size"}},
    });
}

TEST_CASE("bad checkpoint: data offsets out of range, and overlapping tensors") {
    const std::vector<RawTensor> tensors = load_raw(kTiny / "model.safetensors");
    size_t total = 0;
    for (const RawTensor& t : tensors) total += t.bytes.size();
    const auto patched = [&](std::function<void(json&)> patch) {
        return [&tensors, patch](const fs::path& file) { write_raw(file, tensors, patch); };
    };
    const uint64_t n = 24 * 4;  // bytes of an F32 (24) tensor
    expect_failures({
        {"end one byte past the data section",
         patched([=](json& h) {
             h["h.0.ln_1.bias"]["data_offsets"] = {total + 1 - n, total + 1};
         }),
         {"out of range of data section of " + std::to_string(total) + " bytes", "h.0.ln_1.bias"}},
        {"begin after end",
         patched([](json& h) {
             h["wpe.weight"]["data_offsets"] = {100, 4};
         }),
         {"wpe.weight", "out of range"}},
        {"offsets far past the end (no overflow)",
         patched([=](json& h) {
             h["h.1.ln_2.weight"]["data_offsets"] = {~uint64_t(0) - 50, ~uint64_t(0) - 50 + n};
         }),
         {"out of range", "h.1.ln_2.weight"}},
        {"negative offset",
         patched([=](json& h) {
             h["ln_f.bias"]["data_offsets"] = {-int64_t(n), 0};
         }),
         {"ln_f.bias", "data_offsets"}},
        {"span does not match shape x dtype size",
         patched([=](json& h) {
             auto& o = h["h.0.ln_2.bias"]["data_offsets"];
             o[1] = o[0].get<uint64_t>() + n - 4;
         }),
         {"h.0.ln_2.bias", "[24]"}},
        {"two tensors share bytes",
         patched([](json& h) {
             h["h.0.ln_1.bias"]["data_offsets"] = h["h.0.ln_1.weight"]["data_offsets"];
         }),
         {"overlap", "h.0.ln_1.bias", "h.0.ln_1.weight"}},
        {"two tensors overlap partly",
         patched([=](json& h) {
             const uint64_t begin = h["h.1.ln_1.weight"]["data_offsets"][0].get<uint64_t>() + 8;
             h["h.1.ln_1.bias"]["data_offsets"] = {begin, begin + n};
         }),
         {"overlap", "h.1.ln_1.bias", "h.1.ln_1.weight"}},
        {"header is not JSON (same length, patched in place)",
         [](const fs::path& file) {
             std::string bytes = read_file(kTiny / "model.safetensors");
             bytes[8] = '[';
             bytes[9] = '!';
             write_file(file, bytes);
         },
         // (the header is read as a stream: its first byte already says it is no object)
         {"expected a JSON object, found array"}},
        {"header JSON cut in the middle of an entry (same length, patched in place)",
         [](const fs::path& file) {
             std::string bytes = read_file(kTiny / "model.safetensors");
             bytes[8 + 15] = '!';  // the colon after "__metadata__"
             write_file(file, bytes);
         },
         {"not valid JSON"}},
    });
}

TEST_CASE("bad checkpoint: wrong dtype and wrong shape name the tensor and both shapes") {
    const std::vector<RawTensor> tensors = load_raw(kTiny / "model.safetensors");
    const auto edited = [&](std::string name, std::function<void(RawTensor&)> edit) {
        return [&tensors, name, edit](const fs::path& file) {
            std::vector<RawTensor> copy = tensors;
            edit(find_raw(copy, name));
            write_raw(file, copy);
        };
    };
    const FloatTiny floats;
    expect_failures({
        {"c_attn weight stored as I32",
         edited("h.0.attn.c_attn.weight",
                [](RawTensor& t) { t.dtype = "I32"; }),  // same 4 bytes/element
         {"h.0.attn.c_attn.weight", "I32", "F32"}},
        {"token embedding stored as I64",
         edited("wte.weight",
                [](RawTensor& t) {
                    t.dtype = "I64";
                    t.shape = {t.shape[0], t.shape[1] / 2};  // 8 bytes per element: same byte count
                }),
         {"wte.weight", "I64"}},
        {"c_attn weight transposed",
         edited("h.1.attn.c_attn.weight",
                [](RawTensor& t) {
                    REQUIRE(t.shape == std::vector<int64_t>{24, 72});
                    t.shape = {72, 24};
                }),
         {"h.1.attn.c_attn.weight", "[24, 72]", "[72, 24]"}},
        {"c_attn weight one column short (write_safetensors)",
         [&floats](const fs::path& file) {
             std::vector<headmap::TensorToWrite> out = float_tensors(floats);
             for (auto& t : out)
                 if (t.name == "h.0.attn.c_attn.weight") {
                     t.shape = {24, 71};
                     t.data = t.data.first(24 * 71);
                 }
             headmap::write_safetensors(file, out);
         },
         {"h.0.attn.c_attn.weight", "[24, 72]", "[24, 71]"}},
        {"layer-norm bias with shape [1, 24]",
         edited("h.0.ln_1.bias",
                [](RawTensor& t) {
                    t.shape = {1, 24};
                }),
         {"h.0.ln_1.bias", "[24]", "[1, 24]"}},
        {"config.json n_positions larger than wpe.weight",
         [](const fs::path& file) {
             edit_config(file.parent_path(), [](json& c) { c["n_positions"] = 128; });
         },
         {"wpe.weight", "[128, 24]", "[64, 24]"}},
        {"config.json n_embd different from the weights",
         [](const fs::path& file) {
             edit_config(file.parent_path(), [](json& c) { c["n_embd"] = 48; });
         },
         {"wte.weight", "[50257, 48]", "[50257, 24]"}},
        {"config.json n_layer of 2^24 (refused before 2^24 layers are laid out)",
         [](const fs::path& file) {
             edit_config(file.parent_path(), [](json& c) { c["n_layer"] = 1 << 24; });
         },
         {"gives 16777216 layers", "hold only"}},
        {"config.json vocab_size smaller than the tokenizer's ids",
         // (the byte tokenizer's ids: 'e' is 68; the model checks them before loading weights)
         [](const fs::path& file) {
             edit_config(file.parent_path(), [](json& c) { c["vocab_size"] = 50; });
         },
         {"vocab_size 50", "tokenizer and model do not match"}},
    });
}

TEST_CASE("bad checkpoint: a missing tensor") {
    const FloatTiny floats;
    const auto without = [&floats](std::string name) {
        return [&floats, name](const fs::path& file) {
            std::vector<headmap::TensorToWrite> out = float_tensors(floats);
            std::erase_if(out, [&](const auto& t) { return t.name == name; });
            headmap::write_safetensors(file, out);
        };
    };
    expect_failures({
        {"h.1.mlp.c_fc.bias dropped",
         without("h.1.mlp.c_fc.bias"),
         {"h.1.mlp.c_fc.bias", "not found"}},
        {"ln_f.weight dropped", without("ln_f.weight"), {"ln_f.weight", "not found"}},
        {"wte.weight dropped (the name probe)", without("wte.weight"), {"wte.weight", "not found"}},
        {"no weights file at all",
         [](const fs::path& file) { fs::remove(file); },
         {"neither model.safetensors nor"}},
    });
}

TEST_CASE("bad checkpoint: sharded model with a missing shard") {
    TempDir tmp;
    const fs::path model = tmp / "model";
    fs::create_directories(model);
    fs::create_directories(tmp / "out");
    for (const char* f :
         {"config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors"})
        fs::copy_file(kDistil / f, model / f);
    const fs::path out = tmp / "out" / "a.npy";
    const CommandResult r = run_cli(export_args(model, kSeed, out));
    check_error(r, "model-00002-of-00002.safetensors");
    check_no_output(out);
    CHECK(entries(tmp / "out").empty());
}

TEST_CASE("malformed config.json") {
    struct Case {
        std::string name, needle;
        std::function<void(const fs::path&)> make;
    };
    const Case cases[] = {
        {"not JSON", "not valid JSON",
         [](const fs::path& m) {
             write_file(m / "config.json", "{\"model_type\": \"gpt2\", n_layer: 2");
         }},
        {"empty file", "not valid JSON",
         [](const fs::path& m) { write_file(m / "config.json", ""); }},
        {"a JSON array", "expected a JSON object",
         [](const fs::path& m) { write_file(m / "config.json", "[1, 2]"); }},
        {"missing n_layer", "'n_layer'",
         [](const fs::path& m) { edit_config(m, [](json& c) { c.erase("n_layer"); }); }},
        {"n_layer a string", "'n_layer'",
         [](const fs::path& m) { edit_config(m, [](json& c) { c["n_layer"] = "2"; }); }},
        {"n_head zero", "'n_head'",
         [](const fs::path& m) { edit_config(m, [](json& c) { c["n_head"] = 0; }); }},
        {"n_embd not divisible by n_head", "not divisible",
         [](const fs::path& m) { edit_config(m, [](json& c) { c["n_head"] = 5; }); }},
        {"unsupported model_type", "unsupported model_type 't5'",
         [](const fs::path& m) { edit_config(m, [](json& c) { c["model_type"] = "t5"; }); }},
        {"bert config without BERT fields", "'num_hidden_layers'",
         [](const fs::path& m) { edit_config(m, [](json& c) { c["model_type"] = "bert"; }); }},
        {"missing model_type", "'model_type'",
         [](const fs::path& m) { edit_config(m, [](json& c) { c.erase("model_type"); }); }},
        {"unsupported activation", "unsupported activation_function 'relu'",
         [](const fs::path& m) {
             edit_config(m, [](json& c) { c["activation_function"] = "relu"; });
         }},
        {"no config.json", "config.json", [](const fs::path& m) { fs::remove(m / "config.json"); }},
        // A flag that changes the scores, as a string: it was read as the default in silence.
        {"scale_attn_weights a string", "'scale_attn_weights' must be true or false",
         [](const fs::path& m) {
             edit_config(m, [](json& c) { c["scale_attn_weights"] = "false"; });
         }},
        {"scale_attn_weights false", "scale_attn_weights=false is not supported",
         [](const fs::path& m) {
             edit_config(m, [](json& c) { c["scale_attn_weights"] = false; });
         }},
    };
    for (const Case& c : cases) {
        INFO(c.name);
        TinyCopy copy(false);
        fs::create_symlink(kTiny / "model.safetensors", copy.weights());
        c.make(copy.model);
        const CommandResult r = copy.run_export();
        copy.check_failed(r, c.needle);
        CHECK(contains(r.err, "config.json"));
        check_error(run_cli(tokenize_args(copy.model, kSeed)), c.needle);
    }
}

TEST_CASE("missing tokenizer files") {
    TinyCopy copy(false);
    fs::create_symlink(kTiny / "model.safetensors", copy.weights());
    SUBCASE("model dir without tokenizer files, no --tokenizer") {
        const std::string args =
            "--model " + quote(copy.model.string()) + " --text " + quote(kSeed);
        copy.check_failed(run_cli("export " + args + " --out " + quote(copy.out.string())),
                          "no tokenizer files");
        check_error(run_cli("tokenize " + args), "no tokenizer files");
    }
    SUBCASE("--tokenizer pointing nowhere") {
        const CommandResult r = run_cli("export --model " + quote(copy.model.string()) +
                                        " --tokenizer /nonexistent-tokenizer-dir --text x --out " +
                                        quote(copy.out.string()));
        copy.check_failed(r, "/nonexistent-tokenizer-dir");
    }
    SUBCASE("vocab.json without merges.txt") {
        fs::copy_file(kGpt2Tokenizer / "vocab.json", copy.model / "vocab.json");
        check_error(run_cli("tokenize --model " + quote(copy.model.string()) + " --text x"),
                    "merges.txt");
    }
}

TEST_CASE("hostile tokenizer files: exit 2 and one line, never a crash or gigabytes") {
    TempDir tmp;
    const fs::path dir = tmp / "tok";
    fs::create_directories(dir);
    const auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir / name, std::ios::binary) << text;
    };
    const std::string tokenize = "tokenize --model " + quote(kTiny.string()) + " --tokenizer " +
                                 quote(dir.string()) + " --text ab";
    // The 137-byte file that crashed (SIGSEGV): an added id of 2^32-1 read as int32 -1.
    write("tokenizer.json",
          R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},)"
          R"("added_tokens":[{"id":4294967295,"content":"<x>"}]})");
    check_error(run_cli(tokenize),
                "tokenizer.json' added_tokens[0]: token \"<x>\" has id 4294967295");
    // A type nlohmann would have thrown about, naming no file.
    write("tokenizer.json",
          R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},)"
          R"("pre_tokenizer":[]})");
    check_error(run_cli(tokenize), "tokenizer.json': pre_tokenizer [] is not supported");
    // An id of 2^28 in 27 bytes took 10 GB: now a sparse table, and the model's vocab_size check.
    fs::remove(dir / "tokenizer.json");
    write("vocab.json", R"({"a":268435456,"b":1,"ab":2})");
    write("merges.txt", "a b\n");
    // A sparse table now, and the pair refused at load whatever the text: exit 2 in well under
    // a second and a few MB (test_cli_hostile_files times such runs).
    check_error(run_cli(tokenize), "has ids up to 268435456, but");
    check_error(run_cli(tokenize), "has vocab_size 50257");
}

TEST_CASE("--max-text-bytes bounds --text, --pair and --texts") {
    TempDir tmp;
    const std::string model = "--model " + quote(kTiny.string()) + " " + tok_opt();
    check_error(run_cli("tokenize " + model + " --text " + quote(kSeed) + " --max-text-bytes 10"),
                "--text is 45 bytes, more than --max-text-bytes 10");
    check_error(
        run_cli("tokenize " + model + " --text hi --pair " + quote(kSeed) + " --max-text-bytes 10"),
        "--pair is 45 bytes");
    const fs::path texts = tmp / "texts.txt";
    std::ofstream(texts) << kSeed << "\n";
    check_error(
        run_cli("tokenize " + model + " --texts " + quote(texts.string()) + " --max-text-bytes 20"),
        "over the limit of 20 (--max-text-bytes)");
    const fs::path heat = tmp / "heat.png";
    check_error(run_cli("heatmap " + model + " --text " + quote(kSeed) +
                        " --max-text-bytes 10 --out " + quote(heat.string())),
                "--max-text-bytes 10");
    check_no_output(heat);
    const CommandResult fits =
        run_cli("tokenize " + model + " --text " + quote(kSeed) + " --max-text-bytes 45");
    CHECK(fits.exit_code == 0);
    CHECK(fits.out == kSeedIds + "\n");
}

TEST_CASE("text longer than n_positions: an error naming --truncate, or --truncate cuts to 64") {
    Expected e(kTiny);
    REQUIRE(e.seq(6) == 64);
    const std::string text = long_text(e);
    TempDir tmp;
    const fs::path out = tmp / "long.npy";

    const CommandResult too_long = run_cli(export_args(kTiny, text, out));
    check_error(too_long, "--truncate");
    CHECK(contains(too_long.err, "64"));
    check_no_output(out);
    CHECK(entries(tmp.path).empty());
    check_error(run_cli(tokenize_args(kTiny, text)), "--truncate");

    // --truncate: the first 64 tokens, which are case6's.
    const CommandResult ids = run_cli(tokenize_args(kTiny, text, "--truncate"));
    CHECK(ids.exit_code == 0);
    CHECK(ids.out == join_ids(e.ids(6)) + "\n");
    const CommandResult r = run_cli(export_args(kTiny, text, out, "--truncate"));
    INFO("stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    const NpyArray got = read_npy(out);
    CHECK(got.shape == std::vector<int64_t>{2, 3, 64, 64});
    CHECK(max_diff(got, e.attentions(6), 2, 3, 64, range(2), range(3)) <= 1e-5);
    check_rows(got);
}

TEST_CASE("empty text is an error") {
    TempDir tmp;
    check_error(run_cli(fast_export_args(kTiny, "", tmp / "e.npy")), "text gives no tokens");
    check_no_output(tmp / "e.npy");
    check_error(run_cli(tokenize_args(kTiny, "")), "text gives no tokens");
}

TEST_CASE("layer and head selections out of range or malformed") {
    struct Case {
        std::string options, needle;
    };
    const Case cases[] = {
        {"--layers 2", "layer 2 out of range"},
        {"--layers -3", "layer -3 out of range"},
        {"--layers 0-2", "layer 2 out of range"},
        {"--heads 3", "head 3 out of range"},
        {"--heads -4", "head -4 out of range"},
        {"--layers 1-0", "empty"},
        {"--layers x", "layer 'x' is not an integer"},
        {"--heads 1,", "head '' is not an integer"},
        {"--heads ''", "is not an integer"},
        {"--layers 99999999999999999999", "is not an integer"},
        {"--threads -1", "--threads"},
        {"--ring 0", "--ring"},
    };
    TempDir tmp;
    const auto out_of = [&](size_t i) { return tmp / ("sel" + std::to_string(i) + ".npy"); };
    std::vector<std::string> args;
    for (size_t i = 0; i < std::size(cases); ++i)
        args.push_back(fast_export_args(kTiny, kSeed, out_of(i), cases[i].options));
    const std::vector<CommandResult> results = run_many(args);
    for (size_t i = 0; i < std::size(cases); ++i) {
        INFO(cases[i].options);
        check_error(results[i], cases[i].needle);
        check_no_output(out_of(i));
    }
    CHECK(entries(tmp.path).empty());
    // The range the model allows is in the message.
    CHECK(contains(results[0].err, "2 layers"));
    CHECK(contains(results[0].err, "0..1"));
}

TEST_CASE("unwritable output paths and a non-.npy extension") {
    SUBCASE("directory does not exist") {
        const CommandResult r = run_cli(fast_export_args(kTiny, kSeed, "/nonexistent-dir/x.npy"));
        check_error(r, "/nonexistent-dir/x.npy");
        CHECK(contains(r.err, "cannot write"));
        CHECK(!fs::exists("/nonexistent-dir"));
    }
    SUBCASE("output path is a directory") {
        TempDir tmp;
        fs::create_directories(tmp / "out.npy");
        const CommandResult r = run_cli(fast_export_args(kTiny, kSeed, tmp / "out.npy"));
        check_error(r, "directory");
        CHECK(fs::is_directory(tmp / "out.npy"));
        CHECK(fs::is_empty(tmp / "out.npy"));
        CHECK(entries(tmp.path) == std::set<std::string>{"out.npy"});
    }
    SUBCASE("parent is a regular file") {
        TempDir tmp;
        write_file(tmp / "file", "x");
        const CommandResult r = run_cli(fast_export_args(kTiny, kSeed, tmp / "file" / "x.npy"));
        check_error(r, "cannot write");
        CHECK(read_file(tmp / "file") == "x");
    }
    SUBCASE("extension is not an export format") {
        for (const std::string name : {"attn.txt", "attn.npzz", "attn", "attn.np"}) {
            INFO(name);
            TempDir tmp;
            const CommandResult r = run_cli(fast_export_args(kTiny, kSeed, tmp / name));
            check_error(r, ".npy");
            check_no_output(tmp / name);
            CHECK(entries(tmp.path).empty());
        }
    }
    SUBCASE("the extension's case does not matter (as for images)") {
        TempDir tmp;
        const CommandResult upper = run_cli(fast_export_args(kTiny, kSeed, tmp / "attn.NPY"));
        const CommandResult lower = run_cli(fast_export_args(kTiny, kSeed, tmp / "attn.npy"));
        REQUIRE(upper.exit_code == 0);
        REQUIRE(lower.exit_code == 0);
        CHECK(read_file(tmp / "attn.NPY") == read_file(tmp / "attn.npy"));
    }
    SUBCASE("--out missing") {
        check_error(
            run_cli("export --model " + quote(kTiny.string()) + " " + tok_opt() + " --text x"),
            "--out");
    }
}

TEST_CASE("unknown model id with an empty Hugging Face cache") {
    TempDir cache, tmp;
    const std::string env =
        "HF_HUB_CACHE=" + quote(cache.path.string()) + " HF_HOME=" + quote(cache.path.string());
    for (const std::string model :
         {"no-such-org/no-such-model", "no-such-model", "not a valid id!"}) {
        INFO(model);
        const CommandResult r = run_cli("export --model " + quote(model) + " " + tok_opt() +
                                            " --text x --out " + quote((tmp / "m.npy").string()),
                                        env);
        check_error(r, "'" + model + "' not found");
        check_no_output(tmp / "m.npy");
        check_error(
            run_cli("tokenize --model " + quote(model) + " " + tok_opt() + " --text x", env),
            "not found");
    }
    // The searched cache folder is named.
    const CommandResult r =
        run_cli("tokenize --model no-such-org/no-such-model " + tok_opt() + " --text x", env);
    CHECK(contains(r.err, (cache.path / "models--no-such-org--no-such-model").string()));
    CHECK(entries(cache.path).empty());
}

TEST_CASE("a model id found in the Hugging Face cache resolves to its snapshot") {
    TempDir cache, tmp;
    const fs::path repo = cache / "models--test-org--tiny";
    const fs::path snapshot = repo / "snapshots" / "abc123";
    fs::create_directories(snapshot);
    fs::create_directories(repo / "refs");
    write_file(repo / "refs" / "main", "abc123");
    fs::create_symlink(kTiny / "config.json", snapshot / "config.json");
    fs::create_symlink(kTiny / "model.safetensors", snapshot / "model.safetensors");
    const std::string env = "HF_HUB_CACHE=" + quote(cache.path.string());
    const CommandResult r = run_cli("export --model test-org/tiny " + tok_opt() + " --text " +
                                        quote(kSeed) + " --out " + quote((tmp / "c.npy").string()),
                                    env);
    INFO("stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    Expected e(kTiny);
    CHECK(max_diff(read_npy(tmp / "c.npy"), e.attentions(0), 2, 3, 7, range(2), range(3)) <= 1e-5);
}

TEST_CASE(
    "HEADMAP_CPU naming a kernel set that does not exist: exit 2, one line, nothing written") {
    const TempDir dir;
    const fs::path out = dir.path / "bad-cpu.npy";
    const CommandResult r = run_cli("export --model " + quote(kTiny.string()) + " " + tok_opt() +
                                        " --text " + quote(kSeed) + " --out " + quote(out.string()),
                                    "HEADMAP_CPU=sse9");
    check_error(r, "HEADMAP_CPU=sse9: no such kernel set (expected one of: ");
    CHECK(!fs::exists(out));
    // Each set the build knows is accepted where the CPU runs it: the portable one always.
    const CommandResult ok =
        run_cli("export --model " + quote(kTiny.string()) + " " + tok_opt() + " --text " +
                    quote(kSeed) + " --out " + quote(out.string()),
                "HEADMAP_CPU=scalar");
    INFO("stderr: ", ok.err);
    CHECK(ok.exit_code == 0);
    CHECK(fs::exists(out));
}
