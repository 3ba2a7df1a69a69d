// Helpers shared by the CLI suites (test_cli*.cpp): the fixture paths and seed sentence, argument
// builders for tokenize/export (with GPT-2's tokenizer or a 256-token byte tokenizer), running
// several CLI calls at once (run_many), the failure contract (check_error, check_no_output), and
// comparison of exported maps with the fixtures' expected attentions.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "engine/safetensors.h"
#include "test_support.h"

namespace cli_test {

namespace fs = std::filesystem;
using namespace test_support;
using nlohmann::json;

inline const fs::path kTiny = kTestData / "gpt2-tiny";  // F32, 2 layers x 3 heads, 64 positions
inline const fs::path kDistil = kTestData / "distilgpt2-tiny";  // F16 sharded, 3 layers x 4 heads
inline const std::string kSeed = "A new sentence to visualize attention weights";
inline const std::string kSeedIds = "32 649 6827 284 38350 3241 19590";

inline std::string tok_opt() {
    return "--tokenizer " + quote(kGpt2Tokenizer.string());
}

// Runs the CLI once per entry of `args`, a few at a time (each run spends most of its ~0.1 s
// loading the tokenizer); results in the order of `args`. Assertions stay on this thread.
inline std::vector<CommandResult> run_many(const std::vector<std::string>& args) {
    constexpr size_t kParallel = 4;
    std::vector<CommandResult> results(args.size());
    for (size_t first = 0; first < args.size(); first += kParallel) {
        std::vector<std::future<CommandResult>> running;
        for (size_t i = first; i < std::min(args.size(), first + kParallel); ++i)
            running.push_back(
                std::async(std::launch::async, [&args, i] { return run_cli(args[i]); }));
        for (size_t i = 0; i < running.size(); ++i) results[first + i] = running[i].get();
    }
    return results;
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// The contract for every failure: exit 2 (not a signal), nothing on stdout, and exactly one
// stderr line "headmap: error: ..." that mentions `needle`.
inline void check_error(const CommandResult& r, const std::string& needle) {
    INFO("stderr: [", r.err, "]");
    INFO("stdout: [", r.out, "]");
    CHECK(r.exit_code < 128);  // not killed by a signal
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("headmap: error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK((!r.err.empty() && r.err.back() == '\n'));
    CHECK(contains(r.err, needle));
    CHECK(r.out.empty());
}

// One failing command line and what its error must mention; check_errors runs them (a few at a
// time) and holds each to check_error's contract.
struct ErrorCase {
    std::string args, needle;
};
inline void check_errors(const std::vector<ErrorCase>& cases) {
    std::vector<std::string> commands;
    for (const ErrorCase& c : cases) commands.push_back(c.args);
    const std::vector<CommandResult> results = run_many(commands);
    for (size_t i = 0; i < cases.size(); ++i) {
        CAPTURE(cases[i].args);
        check_error(results[i], cases[i].needle);
    }
}

inline std::set<std::string> entries(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
}

// No output file and no ".NAME.tmp-*" beside it.
inline void check_no_output(const fs::path& out) {
    INFO("output: ", out.string());
    CHECK(!fs::exists(out));
    // Built piecewise: GCC 12 reports a false -Wrestrict for "." + string + "...".
    std::string temp_prefix = ".";
    temp_prefix += out.filename().string();
    temp_prefix += ".tmp-";
    if (fs::is_directory(out.parent_path()))
        for (const std::string& name : entries(out.parent_path())) {
            INFO("left in the output directory: ", name);
            CHECK(name.rfind(temp_prefix, 0) != 0);
        }
}

inline std::string export_args(const fs::path& model, const std::string& text, const fs::path& out,
                               const std::string& extra = "") {
    return "export --model " + quote(model.string()) + " " + tok_opt() + " --text " + quote(text) +
           " --out " + quote(out.string()) + (extra.empty() ? "" : " " + extra);
}

inline json read_json(const fs::path& path) {
    return json::parse(read_file(path));
}

// GPT-2's 256 byte tokens (ids 0..255) and no merges: every byte becomes one token. Loads in
// no time where the real tokenizer takes ~0.1 s, so the tests of failures that have nothing to
// do with tokenization use it. Created on first use (on the main thread), removed at exit.
inline const fs::path& byte_tokenizer() {
    static const TempDir dir;
    static const bool made = [] {
        const json vocab = read_json(kGpt2Tokenizer / "vocab.json");
        json bytes = json::object();
        for (const auto& [token, id] : vocab.items())
            if (id.get<int>() < 256) bytes[token] = id;
        write_file(dir / "vocab.json", bytes.dump());
        write_file(dir / "merges.txt", "#version: 0.2\n");
        return bytes.size() == 256;
    }();
    REQUIRE(made);
    return dir.path;
}

// export with the byte tokenizer: for failures after tokenization.
inline std::string fast_export_args(const fs::path& model, const std::string& text,
                                    const fs::path& out, const std::string& extra = "") {
    return "export --model " + quote(model.string()) + " --tokenizer " +
           quote(byte_tokenizer().string()) + " --text " + quote(text) + " --out " +
           quote(out.string()) + (extra.empty() ? "" : " " + extra);
}

inline std::string tokenize_args(const fs::path& model, const std::string& text,
                                 const std::string& extra = "") {
    return "tokenize --model " + quote(model.string()) + " " + tok_opt() + " --text " +
           quote(text) + (extra.empty() ? "" : " " + extra);
}

inline std::string join_ids(const json& ids) {
    std::string line;
    for (const auto& id : ids) {
        if (!line.empty()) line += ' ';
        line += std::to_string(id.get<int>());
    }
    return line;
}

// The first of `keys` the config has (GPT-2, BERT and DistilBERT name fields differently).
inline int config_int(const json& config, std::initializer_list<const char*> keys) {
    for (const char* key : keys)
        if (config.contains(key)) return config[key].get<int>();
    FAIL("fixture config has none of the expected fields");
    return 0;
}

// The expected attentions of one fixture directory, (L, H, S, S) per case.
struct Expected {
    json meta;
    int layers, heads;
    headmap::WeightStore store;
    explicit Expected(const fs::path& dir)
        : meta(read_json(dir / "expected.json")),
          layers(config_int(meta["config"], {"n_layer", "num_hidden_layers", "n_layers"})),
          heads(config_int(meta["config"], {"n_head", "num_attention_heads", "n_heads"})),
          store(headmap::SafetensorsArchive::open(dir / "expected.safetensors")) {}
    int cases() const { return int(meta["cases"].size()); }
    std::string text(int c) const { return meta["cases"][c]["text"].get<std::string>(); }
    std::string text_pair(int c) const {
        return meta["cases"][c].value("text_pair", std::string());
    }
    const json& ids(int c) const { return meta["cases"][c]["ids"]; }
    int64_t seq(int c) const { return int64_t(ids(c).size()); }
    std::span<const float> attentions(int c) {
        const int64_t S = seq(c);
        return store.get("case" + std::to_string(c) + ".attentions", {layers, heads, S, S});
    }
};

// Compares an exported (layers.size(), heads.size(), S, S) array with the picked slices of the
// expected (L, H, S, S) array; returns the largest absolute difference.
inline double max_diff(const NpyArray& got, std::span<const float> expected, int L, int H,
                       int64_t S, const std::vector<int>& layers, const std::vector<int>& heads) {
    REQUIRE(got.shape == std::vector<int64_t>{int64_t(layers.size()), int64_t(heads.size()), S, S});
    REQUIRE(got.values.size() == layers.size() * heads.size() * size_t(S * S));
    REQUIRE(expected.size() == size_t(L) * H * S * S);
    double worst = 0;
    for (size_t li = 0; li < layers.size(); ++li)
        for (size_t hi = 0; hi < heads.size(); ++hi) {
            const float* g = got.values.data() + (li * heads.size() + hi) * size_t(S * S);
            const float* e =
                expected.data() + (size_t(layers[li]) * H + size_t(heads[hi])) * size_t(S * S);
            for (int64_t i = 0; i < S * S; ++i) {
                const double d = std::fabs(double(g[i]) - double(e[i]));
                if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
            }
        }
    return worst;
}

// Every row of every map sums to 1 and the strict upper triangle is exactly 0.
inline void check_rows(const NpyArray& a) {
    REQUIRE(a.shape.size() == 4);
    const int64_t S = a.shape[2];
    REQUIRE(a.shape[3] == S);
    const int64_t maps = a.shape[0] * a.shape[1];
    REQUIRE(a.values.size() == size_t(maps * S * S));
    double worst_sum = 0;
    int64_t nonzero_upper = 0, negative = 0;
    for (int64_t m = 0; m < maps; ++m)
        for (int64_t i = 0; i < S; ++i) {
            const float* row = a.values.data() + (m * S + i) * S;
            double sum = 0;
            for (int64_t j = 0; j < S; ++j) {
                sum += row[j];
                if (j > i && row[j] != 0.0f) ++nonzero_upper;
                if (row[j] < 0.0f) ++negative;
            }
            const double d = std::fabs(sum - 1.0);
            if (!(d <= worst_sum)) worst_sum = std::isnan(d) ? INFINITY : d;
        }
    CHECK(worst_sum <= 1e-5);
    CHECK(nonzero_upper == 0);
    CHECK(negative == 0);
}

inline std::vector<int> range(int n) {
    std::vector<int> v(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) v[size_t(i)] = i;
    return v;
}

}  // namespace cli_test
