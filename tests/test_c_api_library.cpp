// The library as embedders see it: through headmap.hpp (the C++ face over the C API) and
// libheadmap.so. Maps captured through the API equal `headmap export`'s bit for bit on the
// fixtures; two contexts on one model in two threads equal one context; the shared library
// exports hm_ symbols only.
#include <doctest/doctest.h>

#include <cstring>
#include <thread>

#include "headmap/headmap.hpp"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace test_support;

namespace {

const fs::path kData = HEADMAP_TEST_DATA;

struct Fixture {
    std::string model, tokenizer, text;
    const char* pair;
};

// The CLI's export of the same input, read back.
NpyArray cli_export(const Fixture& f, const fs::path& out) {
    std::string args =
        "export --model '" + f.model + "' --text '" + f.text + "' --out '" + out.string() + "'";
    if (!f.tokenizer.empty()) args += " --tokenizer '" + f.tokenizer + "'";
    if (f.pair) args += std::string(" --pair '") + f.pair + "'";
    const CommandResult r = run_cli(args);
    INFO("stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    return read_npy(out);
}

headmap::Maps api_capture(const Fixture& f) {
    hm_model_params params = hm_model_default_params();
    params.tokenizer_dir = f.tokenizer.empty() ? nullptr : f.tokenizer.c_str();
    hm_model* model = nullptr;
    REQUIRE(hm_model_load(f.model.c_str(), &params, &model) == HM_OK);
    hm_context* ctx = nullptr;
    REQUIRE(hm_context_new(model, nullptr, &ctx) == HM_OK);
    hm_capture_params cp = hm_capture_default_params();
    cp.text = f.text.c_str();
    cp.pair = f.pair;
    hm_maps* maps = nullptr;
    const hm_status status = hm_capture(ctx, &cp, &maps);
    hm_context_free(ctx);
    hm_model_free(model);
    REQUIRE(status == HM_OK);
    return headmap::Maps(maps);
}

}  // namespace

TEST_CASE("maps through the C API equal headmap export's, bit for bit") {
    const std::string minilm = (fs::path(HEADMAP_SOURCE_DIR) / "weights/all-MiniLM-L6-v2").string();
    const std::vector<Fixture> fixtures = {
        {(kData / "gpt2-tiny").string(), "weights/gpt2", "The quick brown fox jumps", nullptr},
        {(kData / "bert-tiny").string(), "", "Where is the cat?", "The cat is on the mat."},
        {minilm, "", "A new sentence to visualize attention weights", nullptr},
    };
    TempDir tmp;
    for (const Fixture& f : fixtures) {
        CAPTURE(f.model);
        REQUIRE(fs::exists(fs::path(f.model) / "config.json"));  // weights/fetch minilm ran
        const NpyArray expected = cli_export(f, tmp / "cli.npy");
        const headmap::Maps maps = api_capture(f);
        const hm_maps_info info = maps.info();
        REQUIRE(expected.shape ==
                std::vector<int64_t>{info.n_layers, info.n_heads, info.seq, info.seq});
        const std::span<const float> values = maps.values();
        REQUIRE(values.size() == expected.values.size());
        CHECK(std::memcmp(values.data(), expected.values.data(), values.size() * 4) == 0);
    }
}

TEST_CASE("two contexts on one model in two threads give one context's maps, bit for bit") {
    const headmap::Model model = headmap::Model::load((kData / "bert-tiny").string());
    const std::vector<std::string> texts = {"The cat sat on the mat.", "Where did the dog go?",
                                            "Attention maps, captured twice over."};
    std::vector<std::vector<float>> alone;
    {
        headmap::Context ctx = model.context();
        for (const std::string& text : texts) {
            const headmap::Maps maps = ctx.capture(text);
            alone.emplace_back(maps.values().begin(), maps.values().end());
        }
    }
    std::vector<std::vector<float>> threaded[2];
    std::thread workers[2];
    for (int t = 0; t < 2; ++t)
        workers[t] = std::thread([&, t] {
            hm_context_params params = hm_context_default_params();
            params.threads = 1 + t;  // different thread pools must not change a bit
            headmap::Context ctx = model.context(params);
            for (int round = 0; round < 3; ++round)
                for (const std::string& text : texts) {
                    const headmap::Maps maps = ctx.capture(text);
                    threaded[t].emplace_back(maps.values().begin(), maps.values().end());
                }
        });
    for (std::thread& w : workers) w.join();
    for (int t = 0; t < 2; ++t) {
        REQUIRE(threaded[t].size() == 3 * texts.size());
        for (size_t i = 0; i < threaded[t].size(); ++i)
            CHECK(threaded[t][i] == alone[i % texts.size()]);
    }
}

TEST_CASE("the C++ face: streaming, words, errors as headmap::ApiError") {
    const headmap::Model model = headmap::Model::load((kData / "bert-tiny").string());
    CHECK(model.info().n_layer > 0);
    CHECK(model.tokenize("hello world").size() == 4);  // [CLS] hello world [SEP]
    int layers = 0;
    headmap::CaptureOptions options;
    options.on_layer = [&](int, int heads, int n_q, int n_k, std::span<const float> maps) {
        ++layers;
        return maps.size() == size_t(heads) * size_t(n_q) * size_t(n_k);
    };
    const headmap::Maps maps = model.capture("hello world", options);
    CHECK(layers == model.info().n_layer);
    CHECK(maps.tokens().front() == "[CLS]");
    CHECK(maps.mean_heads(-1).values().size() == 16);
    CHECK(maps.mean_heads(-1).values() == maps.map(-1, headmap::kHeadMean));
    try {
        (void)model.capture("hello", {.layers = "42"});
        FAIL("expected an error");
    } catch (const headmap::ApiError& e) {
        CHECK(e.status() == HM_ERR_OUT_OF_RANGE);
        CHECK(std::string(e.what()).find("42") != std::string::npos);
    }
}

TEST_CASE("libheadmap.so exports hm_ symbols only") {
    TempDir tmp;
    const std::string command = std::string("nm -D --defined-only '") + HEADMAP_SHARED_LIBRARY +
                                "' > '" + (tmp / "symbols").string() + "'";
    REQUIRE(std::system(command.c_str()) == 0);
    std::istringstream lines(read_file(tmp / "symbols"));
    std::string line;
    int exported = 0;
    while (std::getline(lines, line)) {
        const std::string name = line.substr(line.rfind(' ') + 1);
        INFO("exported: ", name);
        CHECK(name.rfind("hm_", 0) == 0);
        ++exported;
    }
    CHECK(exported >= 40);
}
