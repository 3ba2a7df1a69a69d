// End-to-end tests of the headmap CLI: tokenize ids against Hugging Face's, exported attention
// maps against transformers' outputs (tests/data/*/expected.*), layer/head selection, and every
// kind of bad input ending in exactly one "headmap: error: ..." line, exit code 2, no crash and
// no output or temporary file left behind. Hostile checkpoints are built in temp dirs from
// gpt2-tiny (by hand, or with headmap::write_safetensors). CLI runs that are independent go a
// few at a time (run_many), and failures unrelated to tokenization use a 256-token byte
// tokenizer, so the suite stays within a few seconds.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "engine/safetensors.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace test_support;
using nlohmann::json;

namespace {

const fs::path kTiny = kTestData / "gpt2-tiny";          // F32, 2 layers x 3 heads, 64 positions
const fs::path kDistil = kTestData / "distilgpt2-tiny";  // F16 sharded, 3 layers x 4 heads
const std::string kSeed = "A new sentence to visualize attention weights";
const std::string kSeedIds = "32 649 6827 284 38350 3241 19590";

std::string tok_opt() { return "--tokenizer " + quote(kGpt2Tokenizer.string()); }

// Like run_cli, with `env` (e.g. "HF_HUB_CACHE=/tmp/x") set for the CLI only.
CommandResult run_cli_env(const std::string& env, const std::string& args) {
    TempDir tmp;
    const std::string command = std::string("cd '") + kSourceDir.string() + "' && env " + env +
                                " '" + HEADMAP_CLI + "' " + args + " >'" + (tmp / "out").string() +
                                "' 2>'" + (tmp / "err").string() + "'";
    const int status = std::system(command.c_str());
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(tmp / "out");
    r.err = read_file(tmp / "err");
    return r;
}

// Runs the CLI once per entry of `args`, a few at a time (each run spends most of its ~0.1 s
// loading the tokenizer); results in the order of `args`. Assertions stay on this thread.
std::vector<CommandResult> run_many(const std::vector<std::string>& args) {
    constexpr size_t kParallel = 4;
    std::vector<CommandResult> results(args.size());
    for (size_t first = 0; first < args.size(); first += kParallel) {
        std::vector<std::future<CommandResult>> running;
        for (size_t i = first; i < std::min(args.size(), first + kParallel); ++i)
            running.push_back(std::async(std::launch::async, [&args, i] { return run_cli(args[i]); }));
        for (size_t i = 0; i < running.size(); ++i) results[first + i] = running[i].get();
    }
    return results;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// The contract for every failure: exit 2 (not a signal), nothing on stdout, and exactly one
// stderr line "headmap: error: ..." that mentions `needle`.
void check_error(const CommandResult& r, const std::string& needle) {
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

std::set<std::string> entries(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
}

// No output file and no ".NAME.tmp-*" beside it.
void check_no_output(const fs::path& out) {
    INFO("output: ", out.string());
    CHECK(!fs::exists(out));
    const std::string temp_prefix = "." + out.filename().string() + ".tmp-";
    if (fs::is_directory(out.parent_path()))
        for (const std::string& name : entries(out.parent_path())) {
            INFO("left in the output directory: ", name);
            CHECK(name.rfind(temp_prefix, 0) != 0);
        }
}

std::string export_args(const fs::path& model, const std::string& text, const fs::path& out,
                        const std::string& extra = "") {
    return "export --model " + quote(model.string()) + " " + tok_opt() + " --text " + quote(text) +
           " --out " + quote(out.string()) + (extra.empty() ? "" : " " + extra);
}

json read_json(const fs::path& path) { return json::parse(read_file(path)); }

// GPT-2's 256 byte tokens (ids 0..255) and no merges: every byte becomes one token. Loads in
// no time where the real tokenizer takes ~0.1 s, so the tests of failures that have nothing to
// do with tokenization use it. Created on first use (on the main thread), removed at exit.
const fs::path& byte_tokenizer() {
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
std::string fast_export_args(const fs::path& model, const std::string& text, const fs::path& out,
                             const std::string& extra = "") {
    return "export --model " + quote(model.string()) + " --tokenizer " +
           quote(byte_tokenizer().string()) + " --text " + quote(text) + " --out " +
           quote(out.string()) + (extra.empty() ? "" : " " + extra);
}

std::string tokenize_args(const fs::path& model, const std::string& text,
                          const std::string& extra = "") {
    return "tokenize --model " + quote(model.string()) + " " + tok_opt() + " --text " + quote(text) +
           (extra.empty() ? "" : " " + extra);
}

std::string join_ids(const json& ids) {
    std::string line;
    for (const auto& id : ids) {
        if (!line.empty()) line += ' ';
        line += std::to_string(id.get<int>());
    }
    return line;
}

// The expected attentions of one fixture directory, (L, H, S, S) per case.
struct Expected {
    json meta;
    int layers, heads;
    headmap::WeightStore store;
    explicit Expected(const fs::path& dir)
        : meta(read_json(dir / "expected.json")),
          layers(meta["config"]["n_layer"].get<int>()),
          heads(meta["config"]["n_head"].get<int>()),
          store(headmap::SafetensorsArchive::open(dir / "expected.safetensors")) {}
    int cases() const { return int(meta["cases"].size()); }
    std::string text(int c) const { return meta["cases"][c]["text"].get<std::string>(); }
    const json& ids(int c) const { return meta["cases"][c]["ids"]; }
    int64_t seq(int c) const { return int64_t(ids(c).size()); }
    std::span<const float> attentions(int c) {
        const int64_t S = seq(c);
        return store.get("case" + std::to_string(c) + ".attentions", {layers, heads, S, S});
    }
};

// Compares an exported (layers.size(), heads.size(), S, S) array with the picked slices of the
// expected (L, H, S, S) array; returns the largest absolute difference.
double max_diff(const NpyArray& got, std::span<const float> expected, int L, int H, int64_t S,
                const std::vector<int>& layers, const std::vector<int>& heads) {
    REQUIRE(got.shape == std::vector<int64_t>{int64_t(layers.size()), int64_t(heads.size()), S, S});
    REQUIRE(got.values.size() == layers.size() * heads.size() * size_t(S * S));
    REQUIRE(expected.size() == size_t(L) * H * S * S);
    double worst = 0;
    for (size_t li = 0; li < layers.size(); ++li)
        for (size_t hi = 0; hi < heads.size(); ++hi) {
            const float* g = got.values.data() + (li * heads.size() + hi) * size_t(S * S);
            const float* e = expected.data() + (size_t(layers[li]) * H + size_t(heads[hi])) * size_t(S * S);
            for (int64_t i = 0; i < S * S; ++i) {
                const double d = std::fabs(double(g[i]) - double(e[i]));
                if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
            }
        }
    return worst;
}

// Every row of every map sums to 1 and the strict upper triangle is exactly 0.
void check_rows(const NpyArray& a) {
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

std::vector<int> range(int n) {
    std::vector<int> v(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) v[size_t(i)] = i;
    return v;
}

// A text longer than 64 tokens whose first 64 tokens are case6's (case6 ends in a word, and
// " attends" starts a new pre-token).
std::string long_text(const Expected& e) {
    return e.text(6) + " attends to itself and to every earlier position, never to later ones.";
}

// --- hostile checkpoints -------------------------------------------------------------------

// One tensor as raw bytes, for writing safetensors files by hand.
struct RawTensor {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::string bytes;
};

std::vector<RawTensor> load_raw(const fs::path& file) {
    const headmap::SafetensorsArchive archive = headmap::SafetensorsArchive::open(file);
    std::vector<RawTensor> out;
    for (const headmap::TensorView& v : archive.tensors())
        out.push_back({v.name, v.dtype_text, v.shape,
                       std::string(reinterpret_cast<const char*>(v.bytes.data()), v.bytes.size())});
    return out;
}

RawTensor& find_raw(std::vector<RawTensor>& tensors, const std::string& name) {
    for (RawTensor& t : tensors)
        if (t.name == name) return t;
    FAIL("no tensor ", name);
    return tensors.front();
}

// 8-byte little-endian header length + JSON header + data, tensors laid out back to back;
// `patch` may edit the header (offsets, dtypes) before it is written.
void write_raw(const fs::path& path, const std::vector<RawTensor>& tensors,
               const std::function<void(json&)>& patch = {}) {
    json header = json::object();
    header["__metadata__"] = {{"format", "pt"}};
    std::string data;
    for (const RawTensor& t : tensors) {
        header[t.name] = {{"dtype", t.dtype},
                          {"shape", t.shape},
                          {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
        data += t.bytes;
    }
    if (patch) patch(header);
    const std::string text = header.dump();
    const uint64_t length = text.size();
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &length, 8);
    write_file(path, bytes + text + data);
}

// A writable copy of gpt2-tiny (config.json + model.safetensors) in a temp dir, and an empty
// output directory beside it.
struct TinyCopy {
    TempDir dir;
    fs::path model = dir / "model";
    fs::path out_dir = dir / "out";
    fs::path out = out_dir / "attn.npy";
    explicit TinyCopy(bool copy_weights = true) {
        fs::create_directories(model);
        fs::create_directories(out_dir);
        fs::copy_file(kTiny / "config.json", model / "config.json");
        if (copy_weights) fs::copy_file(kTiny / "model.safetensors", model / "model.safetensors");
    }
    fs::path weights() const { return model / "model.safetensors"; }
    // `export` of the seed sentence from this model into `out`.
    std::string export_args(const std::string& extra = "") const {
        return fast_export_args(model, kSeed, out, extra);
    }
    CommandResult run_export(const std::string& extra = "") const { return run_cli(export_args(extra)); }
    // The failure leaves the output directory empty.
    void check_failed(const CommandResult& r, const std::string& needle) const {
        check_error(r, needle);
        check_no_output(out);
        CHECK(entries(out_dir).empty());
    }
};

// A broken copy of gpt2-tiny: `damage` rewrites or removes its model.safetensors (or edits the
// config.json beside it).
struct Hostile {
    std::string name;
    std::function<void(const fs::path& weights_file)> damage;
    std::vector<std::string> needles;  // each must appear in the one error line
};

// Builds every broken copy, runs export on all of them (a few at a time), and checks each
// failed cleanly with a message holding its needles.
void expect_failures(const std::vector<Hostile>& cases) {
    std::vector<std::unique_ptr<TinyCopy>> copies;
    std::vector<std::string> args;
    for (const Hostile& c : cases) {
        copies.push_back(std::make_unique<TinyCopy>());
        c.damage(copies.back()->weights());
        args.push_back(copies.back()->export_args());
    }
    const std::vector<CommandResult> results = run_many(args);
    for (size_t i = 0; i < cases.size(); ++i) {
        INFO(cases[i].name);
        copies[i]->check_failed(results[i], cases[i].needles.front());
        for (const std::string& needle : cases[i].needles) CHECK(contains(results[i].err, needle));
    }
}

// gpt2-tiny's float tensors as fp32 (the legacy BOOL buffers left out), for write_safetensors.
struct FloatTiny {
    // get() caches conversions, hence mutable; F32 tensors are viewed in place.
    mutable headmap::WeightStore store{headmap::SafetensorsArchive::open(kTiny / "model.safetensors")};
};

std::vector<headmap::TensorToWrite> float_tensors(const FloatTiny& tiny) {
    headmap::WeightStore& store = tiny.store;
    std::vector<headmap::TensorToWrite> out;
    for (const headmap::TensorView& v : store.archive().tensors())
        if (v.dtype == headmap::DType::F32)
            out.push_back({v.name, headmap::DType::F32, v.shape, store.get(v.name, v.shape)});
    return out;
}

void edit_config(const fs::path& model, const std::function<void(json&)>& edit) {
    json config = read_json(model / "config.json");
    edit(config);
    write_file(model / "config.json", config.dump(2));
}

}  // namespace

// ============================================================================================
// 1. tokenize
// ============================================================================================

TEST_CASE("tokenize: the seed sentence gives HF's ids on one line, single spaces") {
    const CommandResult r = run_cli(tokenize_args(kTiny, kSeed));
    INFO("stderr: ", r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK(r.out == kSeedIds + "\n");
}

TEST_CASE("tokenize: every fixture case gives exactly the ids in expected.json") {
    // Both fixtures were tokenized with the same GPT-2 tokenizer: one run per text suffices.
    const json tiny = read_json(kTiny / "expected.json"), distil = read_json(kDistil / "expected.json");
    REQUIRE(tiny["cases"].size() == distil["cases"].size());
    for (size_t i = 0; i < tiny["cases"].size(); ++i) {
        CHECK(tiny["cases"][i]["text"] == distil["cases"][i]["text"]);
        CHECK(tiny["cases"][i]["ids"] == distil["cases"][i]["ids"]);
    }
    REQUIRE(tiny["cases"].size() >= 7);
    std::vector<std::string> args;
    for (const json& c : tiny["cases"]) args.push_back(tokenize_args(kTiny, c["text"].get<std::string>()));
    const std::vector<CommandResult> results = run_many(args);
    for (size_t i = 0; i < results.size(); ++i) {
        const json& c = tiny["cases"][i];
        INFO(c["name"].get<std::string>(), ": ", c["text"].get<std::string>());
        INFO("stderr: ", results[i].err);
        CHECK(results[i].exit_code == 0);
        CHECK(results[i].err.empty());
        CHECK(results[i].out == join_ids(c["ids"]) + "\n");
    }
}

TEST_CASE("tokenize --tokens prints the vocab strings of the ids") {
    const CommandResult seed = run_cli(tokenize_args(kTiny, kSeed, "--tokens"));
    CHECK(seed.exit_code == 0);
    CHECK(seed.out == "A Ġnew Ġsentence Ġto Ġvisualize Ġattention Ġweights\n");

    // Every case: the token strings are the vocab.json keys of HF's ids, one line.
    const json vocab = read_json(kGpt2Tokenizer / "vocab.json");
    std::map<int, std::string> by_id;
    for (const auto& [token, id] : vocab.items()) by_id[id.get<int>()] = token;
    const json meta = read_json(kTiny / "expected.json");
    const std::vector<int> picked = {1, 2, 3, 5, 6};  // case0 is the seed, checked above
    std::vector<std::string> args;
    for (int i : picked) args.push_back(tokenize_args(kTiny, meta["cases"][i]["text"].get<std::string>(), "--tokens"));
    const std::vector<CommandResult> results = run_many(args);
    for (size_t i = 0; i < results.size(); ++i) {
        const json& c = meta["cases"][size_t(picked[i])];
        INFO(c["name"].get<std::string>());
        std::string expected;
        for (const json& id : c["ids"]) {
            if (!expected.empty()) expected += ' ';
            expected += by_id.at(id.get<int>());
        }
        const CommandResult& r = results[i];
        CHECK(r.exit_code == 0);
        CHECK(r.out == expected + "\n");
        CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
    }
}

TEST_CASE("the byte tokenizer used by the failure tests turns each byte into its own token") {
    const CommandResult r = run_cli("tokenize --model " + quote(kTiny.string()) + " --tokenizer " +
                                    quote(byte_tokenizer().string()) + " --text " + quote(kSeed));
    CHECK(r.exit_code == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), ' ') == int(kSeed.size()) - 1);
    CHECK(r.out.rfind("32 ", 0) == 0);  // 'A' is byte token 32 in GPT-2's vocabulary
    // A model that works with it: the sanity export of the hostile-checkpoint tests.
    TempDir tmp;
    const CommandResult e = run_cli(fast_export_args(kTiny, kSeed, tmp / "b.npy"));
    CHECK(e.exit_code == 0);
    CHECK(read_npy(tmp / "b.npy").shape == std::vector<int64_t>{2, 3, int64_t(kSeed.size()), int64_t(kSeed.size())});
}

TEST_CASE("tokenize: --name=value spelling and option order do not matter") {
    const CommandResult r = run_cli("tokenize --text=" + quote(kSeed) + " " + tok_opt() +
                                    " --model=" + quote(kTiny.string()));
    CHECK(r.exit_code == 0);
    CHECK(r.out == kSeedIds + "\n");
}

TEST_CASE("invalid UTF-8 in --text does not crash: it is replaced by U+FFFD") {
    struct Case {
        std::string raw, replaced;
    };
    const std::string fffd = "\xEF\xBF\xBD";
    const Case cases[] = {
        {"\xff\xfe ab", fffd + fffd + " ab"},              // bytes that never start a sequence
        {"caf\xc3", "caf" + fffd},                          // truncated 2-byte sequence at the end
        {"x\xed\xa0\x80y", "x" + fffd + fffd + fffd + "y"},  // encoded surrogate: one per byte
        {"\xe6\x97 tail", fffd + " tail"},                  // truncated 3-byte sequence
    };
    std::vector<std::string> args;
    for (const Case& c : cases) {
        args.push_back(tokenize_args(kTiny, c.raw));
        args.push_back(tokenize_args(kTiny, c.replaced));
    }
    const std::vector<CommandResult> results = run_many(args);
    for (size_t i = 0; i < std::size(cases); ++i) {
        INFO("replaced text: ", cases[i].replaced);
        const CommandResult& raw = results[2 * i];
        const CommandResult& ok = results[2 * i + 1];
        CHECK(raw.exit_code == 0);
        CHECK(raw.err.empty());
        CHECK(ok.exit_code == 0);
        CHECK(!raw.out.empty());
        CHECK(raw.out == ok.out);
    }
    TempDir tmp;
    const CommandResult r = run_cli(export_args(kTiny, "bad \xff\xc3( bytes", tmp / "a.npy"));
    INFO("stderr: ", r.err);
    CHECK(r.exit_code == 0);
    const NpyArray a = read_npy(tmp / "a.npy");
    REQUIRE(a.shape.size() == 4);
    CHECK(a.shape[0] == 2);
    CHECK(a.shape[1] == 3);
    check_rows(a);
}

// ============================================================================================
// 2. export
// ============================================================================================

TEST_CASE("export: every case of both fixtures matches transformers' attentions within 1e-5") {
    for (const fs::path& dir : {kTiny, kDistil}) {
        Expected e(dir);
        REQUIRE(e.cases() >= 3);
        TempDir tmp;
        const auto out_of = [&](int c) { return tmp / ("case" + std::to_string(c) + ".npy"); };
        std::vector<std::string> args;
        for (int c = 0; c < e.cases(); ++c) args.push_back(export_args(dir, e.text(c), out_of(c)));
        const std::vector<CommandResult> results = run_many(args);
        for (int c = 0; c < e.cases(); ++c) {
            INFO(dir.filename().string(), " case", c, ": ", e.text(c));
            const fs::path out = out_of(c);
            const CommandResult& r = results[size_t(c)];
            INFO("stderr: ", r.err);
            REQUIRE(r.exit_code == 0);
            CHECK(r.out.empty());
            CHECK(r.err.empty());
            const NpyArray got = read_npy(out);
            const int64_t S = e.seq(c);
            CHECK(got.shape == std::vector<int64_t>{e.layers, e.heads, S, S});
            CHECK(max_diff(got, e.attentions(c), e.layers, e.heads, S, range(e.layers),
                           range(e.heads)) <= 1e-5);
            check_rows(got);
        }
        // Only the requested files: no temporary left over.
        CHECK(entries(tmp.path).size() == size_t(e.cases()));
    }
}

TEST_CASE("export: the .npy file is float32, C order, 64-byte aligned header") {
    TempDir tmp;
    REQUIRE(run_cli(export_args(kTiny, kSeed, tmp / "a.npy")).exit_code == 0);
    const std::string bytes = read_file(tmp / "a.npy");
    REQUIRE(bytes.size() > 10);
    CHECK(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
    const size_t header_len = uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8);
    CHECK((10 + header_len) % 64 == 0);
    CHECK(bytes[10 + header_len - 1] == '\n');
    const std::string header = bytes.substr(10, header_len);
    CHECK(contains(header, "'descr': '<f4'"));
    CHECK(contains(header, "'fortran_order': False"));
    CHECK(contains(header, "'shape': (2, 3, 7, 7)"));
    CHECK(bytes.size() == 10 + header_len + 2 * 3 * 7 * 7 * 4);
}

TEST_CASE("export --layers/--heads pick the right slices") {
    struct Pick {
        const fs::path* dir;
        std::string options;
        std::vector<int> layers, heads;
    };
    const Pick picks[] = {
        {&kTiny, "--layers -1 --heads 0,2", {1}, {0, 2}},
        {&kTiny, "--layers 0-1", {0, 1}, {0, 1, 2}},
        {&kTiny, "--layers 0", {0}, {0, 1, 2}},
        {&kTiny, "--layers all --heads -1", {0, 1}, {2}},
        {&kTiny, "--layers 1,0,1 --heads 2,0", {0, 1}, {0, 2}},  // sorted, duplicates dropped
        {&kTiny, "--layers=-2--1 --heads=1-2", {0, 1}, {1, 2}},
        {&kDistil, "--layers 0,2 --heads 1-3", {0, 2}, {1, 2, 3}},
        {&kDistil, "--layers -2 --heads -4,-1", {1}, {0, 3}},
        {&kDistil, "--heads 2", {0, 1, 2}, {2}},
    };
    Expected tiny(kTiny), distil(kDistil);
    TempDir tmp;
    const auto out_of = [&](size_t i) { return tmp / ("pick" + std::to_string(i) + ".npy"); };
    const auto case_of = [](size_t i) { return i % 2 ? 4 : 0; };  // 7 and 16 tokens
    std::vector<std::string> args;
    for (size_t i = 0; i < std::size(picks); ++i) {
        const Expected& e = picks[i].dir == &kTiny ? tiny : distil;
        args.push_back(export_args(*picks[i].dir, e.text(case_of(i)), out_of(i), picks[i].options));
    }
    const std::vector<CommandResult> results = run_many(args);
    for (size_t i = 0; i < std::size(picks); ++i) {
        const Pick& p = picks[i];
        Expected& e = p.dir == &kTiny ? tiny : distil;
        const int c = case_of(i);
        INFO(p.dir->filename().string(), " ", p.options, " case", c);
        INFO("stderr: ", results[i].err);
        REQUIRE(results[i].exit_code == 0);
        const NpyArray got = read_npy(out_of(i));
        const int64_t S = e.seq(c);
        CHECK(got.shape == std::vector<int64_t>{int64_t(p.layers.size()), int64_t(p.heads.size()), S, S});
        CHECK(max_diff(got, e.attentions(c), e.layers, e.heads, S, p.layers, p.heads) <= 1e-5);
        check_rows(got);
    }
    CHECK(entries(tmp.path).size() == std::size(picks));
}

TEST_CASE("export: --threads and --ring do not change the maps") {
    Expected e(kTiny);
    const std::vector<std::string> options = {"--threads 1 --ring 1", "--threads 3 --ring 4", "--threads=2"};
    TempDir tmp;
    std::vector<std::string> args;
    for (size_t i = 0; i < options.size(); ++i)
        args.push_back(export_args(kTiny, e.text(3), tmp / (std::to_string(i) + ".npy"), options[i]));
    const std::vector<CommandResult> results = run_many(args);
    for (size_t i = 0; i < options.size(); ++i) {
        INFO(options[i]);
        REQUIRE(results[i].exit_code == 0);
        const NpyArray got = read_npy(tmp / (std::to_string(i) + ".npy"));
        CHECK(max_diff(got, e.attentions(3), e.layers, e.heads, e.seq(3), range(e.layers), range(e.heads)) <= 1e-5);
    }
}

TEST_CASE("export: a relative --out lands relative to the working directory") {
    // run_cli runs from the repo root: a path relative to it must reach the temp dir.
    TempDir tmp;
    const fs::path rel = fs::relative(tmp / "rel.npy", kSourceDir);
    const CommandResult r = run_cli(export_args(kTiny, "Hello", rel));
    CHECK(r.exit_code == 0);
    const NpyArray a = read_npy(tmp / "rel.npy");
    CHECK(a.shape == std::vector<int64_t>{2, 3, 1, 1});
    REQUIRE(a.values.size() == 6);
    for (float v : a.values) CHECK(v == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("export overwrites an existing output on success and keeps it on failure") {
    TempDir tmp;
    const fs::path out = tmp / "a.npy";
    write_file(out, "old contents");
    const CommandResult bad = run_cli(fast_export_args(kTiny, kSeed, out, "--layers 7"));
    check_error(bad, "layer 7 out of range");
    CHECK(read_file(out) == "old contents");
    CHECK(entries(tmp.path) == std::set<std::string>{"a.npy"});
    const CommandResult good = run_cli(export_args(kTiny, kSeed, out));
    CHECK(good.exit_code == 0);
    CHECK(read_npy(out).shape == std::vector<int64_t>{2, 3, 7, 7});
    CHECK(entries(tmp.path) == std::set<std::string>{"a.npy"});
}

// ============================================================================================
// 3. bad input
// ============================================================================================

TEST_CASE("bad checkpoint: a hand-written copy of the weights loads (sanity for the cases below)") {
    // write_raw and write_safetensors rebuild a loadable model: the failures below come from the
    // one defect each case injects, not from the way the file was rebuilt.
    TinyCopy raw, rebuilt;
    write_raw(raw.weights(), load_raw(kTiny / "model.safetensors"));
    headmap::write_safetensors(rebuilt.weights(), float_tensors(FloatTiny()));  // BOOL buffers dropped
    const std::vector<CommandResult> results = run_many(
        {export_args(raw.model, kSeed, raw.out), export_args(rebuilt.model, kSeed, rebuilt.out)});
    Expected e(kTiny);
    for (size_t i = 0; i < 2; ++i) {
        INFO((i ? "write_safetensors" : "write_raw"), ": ", results[i].err);
        REQUIRE(results[i].exit_code == 0);
        CHECK(max_diff(read_npy((i ? rebuilt : raw).out), e.attentions(0), 2, 3, 7, range(2), range(3)) <= 1e-5);
    }
}

TEST_CASE("bad checkpoint: truncated model.safetensors") {
    const std::string original = read_file(kTiny / "model.safetensors");
    uint64_t header_length = 0;
    std::memcpy(&header_length, original.data(), 8);
    const auto truncated = [&](size_t size) {
        return [&original, size](const fs::path& file) { write_file(file, original.substr(0, size)); };
    };
    expect_failures({
        {"to half its size", truncated(original.size() / 2), {"out of range of data section", "model.safetensors"}},
        {"to 5 bytes", truncated(5), {"too short for the 8-byte header length"}},
        {"to 0 bytes", truncated(0), {"empty file"}},
        {"to just past the header", truncated(8 + header_length), {"out of range of data section of 0 bytes"}},
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
         patched([=](json& h) { h["h.0.ln_1.bias"]["data_offsets"] = {total + 1 - n, total + 1}; }),
         {"out of range of data section of " + std::to_string(total) + " bytes", "h.0.ln_1.bias"}},
        {"begin after end", patched([](json& h) { h["wpe.weight"]["data_offsets"] = {100, 4}; }),
         {"wpe.weight", "out of range"}},
        {"offsets far past the end (no overflow)",
         patched([=](json& h) { h["h.1.ln_2.weight"]["data_offsets"] = {~uint64_t(0) - 50, ~uint64_t(0) - 50 + n}; }),
         {"out of range", "h.1.ln_2.weight"}},
        {"negative offset", patched([=](json& h) { h["ln_f.bias"]["data_offsets"] = {-int64_t(n), 0}; }),
         {"ln_f.bias", "data_offsets"}},
        {"span does not match shape x dtype size",
         patched([=](json& h) {
             auto& o = h["h.0.ln_2.bias"]["data_offsets"];
             o[1] = o[0].get<uint64_t>() + n - 4;
         }),
         {"h.0.ln_2.bias", "[24]"}},
        {"two tensors share bytes",
         patched([](json& h) { h["h.0.ln_1.bias"]["data_offsets"] = h["h.0.ln_1.weight"]["data_offsets"]; }),
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
         edited("h.0.attn.c_attn.weight", [](RawTensor& t) { t.dtype = "I32"; }),  // same 4 bytes/element
         {"h.0.attn.c_attn.weight", "I32", "F32"}},
        {"token embedding stored as I64",
         edited("wte.weight", [](RawTensor& t) {
             t.dtype = "I64";
             t.shape = {t.shape[0], t.shape[1] / 2};  // 8 bytes per element: same byte count
         }),
         {"wte.weight", "I64"}},
        {"c_attn weight transposed",
         edited("h.1.attn.c_attn.weight", [](RawTensor& t) {
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
         edited("h.0.ln_1.bias", [](RawTensor& t) { t.shape = {1, 24}; }),
         {"h.0.ln_1.bias", "[24]", "[1, 24]"}},
        {"config.json n_positions larger than wpe.weight",
         [](const fs::path& file) { edit_config(file.parent_path(), [](json& c) { c["n_positions"] = 128; }); },
         {"wpe.weight", "[128, 24]", "[64, 24]"}},
        {"config.json n_embd different from the weights",
         [](const fs::path& file) { edit_config(file.parent_path(), [](json& c) { c["n_embd"] = 48; }); },
         {"wte.weight", "[50257, 48]", "[50257, 24]"}},
        {"config.json vocab_size smaller than the tokenizer's ids",
         // (the byte tokenizer's ids: 'e' is 68; the model checks them before loading weights)
         [](const fs::path& file) { edit_config(file.parent_path(), [](json& c) { c["vocab_size"] = 50; }); },
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
        {"h.1.mlp.c_fc.bias dropped", without("h.1.mlp.c_fc.bias"), {"h.1.mlp.c_fc.bias", "not found"}},
        {"ln_f.weight dropped", without("ln_f.weight"), {"ln_f.weight", "not found"}},
        {"wte.weight dropped (the name probe)", without("wte.weight"), {"wte.weight", "not found"}},
        {"no weights file at all", [](const fs::path& file) { fs::remove(file); },
         {"neither model.safetensors nor"}},
    });
}

TEST_CASE("bad checkpoint: sharded model with a missing shard") {
    TempDir tmp;
    const fs::path model = tmp / "model";
    fs::create_directories(model);
    fs::create_directories(tmp / "out");
    for (const char* f : {"config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors"})
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
         [](const fs::path& m) { write_file(m / "config.json", "{\"model_type\": \"gpt2\", n_layer: 2"); }},
        {"empty file", "not valid JSON", [](const fs::path& m) { write_file(m / "config.json", ""); }},
        {"a JSON array", "expected a JSON object", [](const fs::path& m) { write_file(m / "config.json", "[1, 2]"); }},
        {"missing n_layer", "'n_layer'", [](const fs::path& m) { edit_config(m, [](json& c) { c.erase("n_layer"); }); }},
        {"n_layer a string", "'n_layer'", [](const fs::path& m) { edit_config(m, [](json& c) { c["n_layer"] = "2"; }); }},
        {"n_head zero", "'n_head'", [](const fs::path& m) { edit_config(m, [](json& c) { c["n_head"] = 0; }); }},
        {"n_embd not divisible by n_head", "not divisible", [](const fs::path& m) { edit_config(m, [](json& c) { c["n_head"] = 5; }); }},
        {"unsupported model_type", "unsupported model_type 'bert'",
         [](const fs::path& m) { edit_config(m, [](json& c) { c["model_type"] = "bert"; }); }},
        {"missing model_type", "'model_type'", [](const fs::path& m) { edit_config(m, [](json& c) { c.erase("model_type"); }); }},
        {"unsupported activation", "unsupported activation_function 'relu'",
         [](const fs::path& m) { edit_config(m, [](json& c) { c["activation_function"] = "relu"; }); }},
        {"no config.json", "config.json", [](const fs::path& m) { fs::remove(m / "config.json"); }},
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
        const std::string args = "--model " + quote(copy.model.string()) + " --text " + quote(kSeed);
        copy.check_failed(run_cli("export " + args + " --out " + quote(copy.out.string())), "no tokenizer files");
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
        check_error(run_cli("tokenize --model " + quote(copy.model.string()) + " --text x"), "merges.txt");
    }
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
    check_error(run_cli(fast_export_args(kTiny, "", tmp / "e.npy")), "--text");
    check_no_output(tmp / "e.npy");
    check_error(run_cli(tokenize_args(kTiny, "")), "--text");
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
    SUBCASE("extension is not .npy") {
        for (const std::string name : {"attn.txt", "attn.npz", "attn", "attn.NPY"}) {
            INFO(name);
            TempDir tmp;
            const CommandResult r = run_cli(fast_export_args(kTiny, kSeed, tmp / name));
            check_error(r, ".npy");
            check_no_output(tmp / name);
            CHECK(entries(tmp.path).empty());
        }
    }
    SUBCASE("--out missing") {
        check_error(run_cli("export --model " + quote(kTiny.string()) + " " + tok_opt() + " --text x"),
                    "--out");
    }
}

TEST_CASE("unknown model id with an empty Hugging Face cache") {
    TempDir cache, tmp;
    const std::string env = "HF_HUB_CACHE=" + quote(cache.path.string()) + " HF_HOME=" + quote(cache.path.string());
    for (const std::string model : {"no-such-org/no-such-model", "no-such-model", "not a valid id!"}) {
        INFO(model);
        const CommandResult r = run_cli_env(env, "export --model " + quote(model) + " " + tok_opt() +
                                                     " --text x --out " + quote((tmp / "m.npy").string()));
        check_error(r, "'" + model + "' not found");
        check_no_output(tmp / "m.npy");
        check_error(run_cli_env(env, "tokenize --model " + quote(model) + " " + tok_opt() + " --text x"),
                    "not found");
    }
    // The searched cache folder is named.
    const CommandResult r =
        run_cli_env(env, "tokenize --model no-such-org/no-such-model " + tok_opt() + " --text x");
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
    const CommandResult r = run_cli_env(env, "export --model test-org/tiny " + tok_opt() + " --text " +
                                                 quote(kSeed) + " --out " + quote((tmp / "c.npy").string()));
    INFO("stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    Expected e(kTiny);
    CHECK(max_diff(read_npy(tmp / "c.npy"), e.attentions(0), 2, 3, 7, range(2), range(3)) <= 1e-5);
}

TEST_CASE("unknown command, unknown option, and other argument errors") {
    check_error(run_cli("frobnicate --model x"), "unknown command 'frobnicate'");
    check_error(run_cli("tokenize --bogus 1"), "unknown option '--bogus'");
    check_error(run_cli("export --model " + quote(kTiny.string()) + " --colour red"), "unknown option '--colour'");
    check_error(run_cli("tokenize --model"), "--model needs a value");
    check_error(run_cli("tokenize --model " + quote(kTiny.string()) + " " + tok_opt() + " --text x --tokens=yes"),
                "--tokens takes no value");
    check_error(run_cli("tokenize stray"), "unexpected argument 'stray'");
    check_error(run_cli("tokenize " + tok_opt() + " --text x"), "needs --model");
    check_error(run_cli("tokenize --model " + quote(kTiny.string()) + " " + tok_opt()), "needs --text");
    check_error(run_cli("export -o x.npy"), "unexpected argument '-o'");

    const CommandResult none = run_cli("");
    CHECK(none.exit_code == 2);
    CHECK(contains(none.err, "usage: headmap"));
    CHECK(none.out.empty());
    const CommandResult help = run_cli("--help");
    CHECK(help.exit_code == 0);
    CHECK(contains(help.out, "usage: headmap"));
    CHECK(help.err.empty());
}

TEST_CASE("error messages stay one line when the input holds newlines") {
    // Values come from the user; a newline in them must not split the error line.
    TempDir tmp;
    // (quote() keeps the newline inside single quotes: one argument for any POSIX sh.)
    check_error(run_cli(quote("frob\nnicate")), "unknown command");
    check_error(run_cli("tokenize " + quote("--bo\ngus") + " 1"), "unknown option");
    check_error(run_cli("tokenize " + quote("stray\nline")), "unexpected argument");
    check_error(run_cli(fast_export_args(kTiny, kSeed, tmp / "a.npy", "--layers " + quote("1\n2"))), "layer");
    check_error(run_cli(fast_export_args(kTiny, kSeed, tmp / "bad\nname.txt")), ".npy");
    check_error(run_cli("bench --config " + quote("no\npe")), "unknown config");
    check_error(run_cli("tokenize --model " + quote("no\nsuch/dir") + " --text x"), "not found");
    CHECK(entries(tmp.path).empty());
}

// ============================================================================================
// 4. make-random, 5. bench
// ============================================================================================

TEST_CASE("make-random: bad options exit 2 with one line and create no output directory") {
    TempDir tmp;
    const fs::path out = tmp / "random-model";
    check_error(run_cli("make-random --config nope --out " + quote(out.string())), "unknown config 'nope'");
    CHECK(!fs::exists(out));
    check_error(run_cli("make-random --config gpt2-large --out " + quote(out.string())), "unknown config 'gpt2-large'");
    CHECK(!fs::exists(out));
    check_error(run_cli("make-random --config gpt2 --dtype f8 --out " + quote(out.string())), "--dtype 'f8'");
    CHECK(!fs::exists(out));
    check_error(run_cli("make-random --out " + quote(out.string()) + " --layers 3"), "unknown option '--layers'");
    CHECK(!fs::exists(out));
    check_error(run_cli("make-random --config gpt2"), "needs --out");
    CHECK(entries(tmp.path).empty());
}

TEST_CASE("make-random: a bad --seed fails before the output directory is created") {
    TempDir tmp;
    for (const std::string seed : {"-5", "x", "2000000000"}) {
        INFO("--seed ", seed);
        const fs::path out = tmp / ("random-model-seed" + seed);
        check_error(run_cli("make-random --seed " + seed + " --out " + quote(out.string())), "--seed");
        CHECK(!fs::exists(out));
    }
}

TEST_CASE("bench: bad options exit 2 with one line") {
    check_error(run_cli("bench --config nope"), "unknown config 'nope'");
    check_error(run_cli("bench --seq 0"), "'0' is not an integer in 1..1024");
    check_error(run_cli("bench --seq 64,0"), "'0'");
    check_error(run_cli("bench --seq 2048"), "'2048'");
    check_error(run_cli("bench --seq 64,,128"), "--seq");
    check_error(run_cli("bench --seq abc"), "'abc'");
    check_error(run_cli("bench --runs 0"), "--runs");
    check_error(run_cli("bench --threads -2"), "--threads");
    check_error(run_cli("bench --ring 0"), "--ring");
    check_error(run_cli("bench --text hello"), "unknown option '--text'");
}
