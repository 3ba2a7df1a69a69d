// The CUDA backend end to end (needs a GPU; exits 77, "Skipped", without one): on every forward
// fixture the GPU maps and hidden state match HF's and the CPU reference path's; --fast (TF32,
// fp16 maps) stays close; emit_layers, a one-slot ring and taps behave as on the CPU; and random
// GPT-2-small weights at S = 1024 match the CPU fast path.
#include "cuda_test_main.h"
// (cuda_test_main.h first: it defines DOCTEST_CONFIG_IMPLEMENT.)

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "engine/analysis/analysis.h"
#include "engine/config.h"
#include "engine/cuda_forward.h"
#include "engine/engine.h"
#include "engine/safetensors.h"
#include "fixture_support.h"

using namespace headmap;

namespace {

const std::filesystem::path kData = HEADMAP_TEST_DATA;

EngineOptions cuda_options(bool fast = false, int ring_slots = 2) {
    EngineOptions options;
    options.threads = 2;
    options.ring_slots = ring_slots;
    options.device = Device::Cuda;
    options.fast = fast;
    return options;
}

// GPU vs the HF fixture and vs this engine's CPU reference path, for every case of a fixture.
void check_fixture(const std::filesystem::path& model_dir, const std::filesystem::path& expected) {
    Engine engine = Engine::load(model_dir, cuda_options());
    REQUIRE(engine.cuda() != nullptr);
    WeightStore store(SafetensorsArchive::open(expected / "expected.safetensors"));
    const ModelConfig& config = engine.config();
    const std::vector<fixture::Case> cases = fixture::read_cases(expected);
    REQUIRE(!cases.empty());
    for (const fixture::Case& c : cases) {
        CAPTURE(model_dir.string());
        CAPTURE(c.name);
        const int64_t S = int64_t(c.ids.size()), L = config.n_layer, H = config.n_head;
        // HF's DistilBERT and RoBERTa fixtures carry no (or all-zero) token types.
        const std::span<const int32_t> types = config.model_type == "bert"
                                                   ? std::span<const int32_t>(c.type_ids)
                                                   : std::span<const int32_t>();
        const fixture::Captured gpu = fixture::run_case(engine, c.ids, types, Backend::Fast);
        const fixture::Captured cpu = fixture::run_case(engine, c.ids, types, Backend::Reference);
        REQUIRE(gpu.layers.size() == size_t(L));
        for (int l = 0; l < L; ++l) CHECK(gpu.layers[size_t(l)] == l);
        const auto want_maps = store.get(c.name + ".attentions", {L, H, S, S});
        CHECK(fixture::max_abs_diff(gpu.maps, want_maps) <= 1e-5f);
        CHECK(fixture::max_abs_diff(gpu.maps, cpu.maps) <= 1e-5f);
        const auto want_hidden = store.get(c.name + ".hidden", {S, config.d_model});
        CHECK(fixture::max_abs_diff(gpu.hidden, want_hidden) <= 1e-4f);
        CHECK(fixture::check_rows_sum_to_one(gpu.maps, S) == L * H * S);
    }
}

}  // namespace

TEST_CASE("GPU maps match HF and the CPU reference on every fixture (max abs <= 1e-5)") {
    for (const char* name : {"gpt2-tiny", "distilgpt2-tiny", "bert-tiny", "bert-tiny-f16",
                             "roberta-tiny", "distilbert-tiny"}) {
        check_fixture(kData / name, kData / name);
    }
}

TEST_CASE("GPU maps match HF on real all-MiniLM-L6-v2 (when weights/fetch has run)") {
    const std::filesystem::path model =
        std::filesystem::path(HEADMAP_SOURCE_DIR) / "weights" / "all-MiniLM-L6-v2";
    if (!std::filesystem::exists(model / "model.safetensors")) {
        MESSAGE("weights/all-MiniLM-L6-v2 absent: run weights/fetch minilm");
        return;
    }
    check_fixture(model, kData / "minilm-expected");
}

TEST_CASE("--fast: TF32 projections and fp16 maps stay within 2e-3 of the exact GPU maps") {
    Engine exact = Engine::load(kData / "gpt2-tiny", cuda_options(false));
    Engine fast = Engine::load(kData / "gpt2-tiny", cuda_options(true));
    CHECK(fast.fast());
    for (const fixture::Case& c : fixture::read_cases(kData / "gpt2-tiny")) {
        const fixture::Captured a = fixture::run_case(exact, c.ids, {}, Backend::Fast);
        const fixture::Captured b = fixture::run_case(fast, c.ids, {}, Backend::Fast);
        CAPTURE(c.name);
        const float error = fixture::max_abs_diff(a.maps, b.maps);
        CHECK(error <= 2e-3f);
        MESSAGE(c.name << ": fast vs exact maps max abs " << error);
    }
}

TEST_CASE("GPU: emit_layers subsets, a one-slot ring and taps") {
    Engine engine = Engine::load(kData / "gpt2-tiny", cuda_options(false, 1));
    const ModelConfig& config = engine.config();
    const std::vector<int32_t> ids = fixture::read_cases(kData / "gpt2-tiny").front().ids;
    std::vector<uint8_t> emit(size_t(config.n_layer), 0);
    emit[0] = 1;
    ForwardRequest request;
    request.ids = ids;
    request.emit_layers = emit;
    std::vector<int> layers;
    const ForwardResult result =
        engine.run(request, [&](const AttentionSlot& slot) { layers.push_back(slot.layer); });
    CHECK(layers == std::vector<int>{0});
    CHECK(result.layers_computed == 1);  // nothing after the last emitted layer runs

    std::vector<std::string> names;
    request.emit_layers = {};
    request.tap_user = &names;
    request.tap = [](void* user, const char* name, int, std::span<const float> data) {
        static_cast<std::vector<std::string>*>(user)->push_back(name);
        CHECK(!data.empty());
    };
    engine.run(request, [](const AttentionSlot&) {});
    CHECK(names.front() == "embeddings");
    CHECK(std::count(names.begin(), names.end(), std::string("attention")) == config.n_layer);
}

TEST_CASE("random GPT-2-small weights at S = 1024: GPU maps match the CPU fast path") {
    const ModelConfig config = preset_config("gpt2");
    EngineOptions cpu_options;
    cpu_options.threads = 2;
    Engine cpu = Engine::random(config, 1234, cpu_options);
    Engine gpu = Engine::random(config, 1234, cuda_options());
    std::mt19937 rng(5);
    std::vector<int32_t> ids(1024);
    for (auto& id : ids) id = int32_t(rng() % uint32_t(config.vocab_size));
    const fixture::Captured a = fixture::run_case(cpu, ids, {}, Backend::Fast);
    const fixture::Captured b = fixture::run_case(gpu, ids, {}, Backend::Fast);
    CHECK(fixture::max_abs_diff(a.maps, b.maps) <= 1e-5f);
    CHECK(fixture::max_abs_diff(a.hidden, b.hidden) <= 1e-3f);
}

TEST_CASE("device statistics equal the host statistics of the copied maps, with no map copied") {
    Engine engine = Engine::load(kData / "gpt2-tiny", cuda_options());
    const ModelConfig& config = engine.config();
    const std::vector<int32_t> ids = fixture::read_cases(kData / "gpt2-tiny").back().ids;
    const int S = int(ids.size());
    const fixture::Captured maps = fixture::run_case(engine, ids, {}, Backend::Fast);
    const std::vector<analysis::HeadStats> want = analysis::all_head_stats(
        maps.maps, config.n_layer * config.n_head, S, true, 0.01, 1, /*column_sums=*/true);

    std::vector<DeviceHeadStats> got;
    const DeviceStatsRequest device{.threshold = 0.01, .column_sums = true, .out = &got};
    ForwardRequest request;
    request.ids = ids;
    request.device_stats = &device;
    engine.ring().reset();
    const ForwardResult result = engine.forward(request);
    CHECK(result.maps_published == 0);  // nothing went through the ring
    REQUIRE(got.size() == want.size());
    for (size_t m = 0; m < got.size(); ++m) {
        CAPTURE(m);
        const std::vector<double> a = analysis::metric_values(analysis::to_head_stats(got[m]));
        const std::vector<double> b = analysis::metric_values(want[m]);
        REQUIRE(a.size() == b.size());
        for (size_t f = 0; f < a.size(); ++f) CHECK(std::fabs(a[f] - b[f]) <= 1e-6);
        REQUIRE(got[m].column_sums.size() == size_t(S));
        for (int j = 0; j < S; ++j)
            CHECK(std::fabs(got[m].column_sums[size_t(j)] - want[m].column_sums[size_t(j)]) <=
                  1e-6);
    }
}
