// The panel kernels (kernels/cpu/packed_linear.h, dispatched by kernels/cpu/isa.h) against the
// plain-loop reference for every epilogue, layout, ragged shape, pool and kernel table this CPU
// runs; and the engine's use of them: (in, out) weights read in place, (out, in) weights packed
// layer by layer on first use within the byte budget, all agreeing with the Reference backend.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "engine/engine.h"
#include "engine_test_support.h"
#include "kernel_test_support.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/packed_linear.h"
#include "kernels/cpu/thread_pool.h"

using namespace headmap;
using namespace kernel_test;

TEST_CASE("PackedWeight: panels of 16 columns, k-major, zero past N, for both layouts") {
    const int K = 3, N = 18;  // two panels, the second holds columns 16 and 17
    std::vector<float> out_in(size_t(N) * K), in_out(size_t(K) * N);
    for (int n = 0; n < N; ++n)
        for (int k = 0; k < K; ++k) {
            const float value = float(100 * n + k + 1);
            out_in[size_t(n) * K + k] = value;  // (N, K)
            in_out[size_t(k) * N + n] = value;  // (K, N)
        }
    cpu::ThreadPool pool(2);
    for (WeightLayout layout : {WeightLayout::OutIn, WeightLayout::InOut}) {
        const cpu::PackedWeight packed(pool, layout == WeightLayout::OutIn ? out_in : in_out, K, N,
                                       layout);
        REQUIRE(packed.panels() == 2);
        CHECK(packed.k() == K);
        CHECK(packed.n() == N);
        CHECK(reinterpret_cast<uintptr_t>(packed.panel(0)) % 64 == 0);
        for (int p = 0; p < 2; ++p)
            for (int k = 0; k < K; ++k)
                for (int j = 0; j < cpu::kPanelWidth; ++j) {
                    const int n = p * cpu::kPanelWidth + j;
                    const float want = n < N ? float(100 * n + k + 1) : 0.0f;
                    INFO("panel " << p << " k " << k << " j " << j);
                    CHECK(packed.panel(p)[k * cpu::kPanelWidth + j] == want);
                }
    }
}

TEST_CASE(
    "the panel kernels match reference for every epilogue, layout, ragged shape, pool and "
    "kernel table") {
    // S covers whole and partial row tiles (4, 6 and 8 rows) and the largest panel input; N
    // covers whole and partial 16-column panels, partial 3-panel groups and fewer panels than
    // threads; K = 1 is the degenerate product.
    const int shapes_S[] = {1, 5, 6, 7, 9, 13, 128}, shapes_K[] = {1, 24, 67},
              shapes_N[] = {3, 16, 17, 72, 80};
    const LinearFn packed = [](cpu::ThreadPool& pool, std::span<float> out,
                               std::span<const float> in, std::span<const float> weight,
                               std::span<const float> bias, int S, int K, int N,
                               WeightLayout layout, Epilogue epilogue) {
        cpu::linear_packed(pool, out, in, cpu::PackedWeight(pool, weight, K, N, layout), bias, S,
                           epilogue);
    };
    // (K, N) weights read where they are, when N is a multiple of 16 (else packed as above).
    const LinearFn in_place = [](cpu::ThreadPool& pool, std::span<float> out,
                                 std::span<const float> in, std::span<const float> weight,
                                 std::span<const float> bias, int S, int K, int N,
                                 WeightLayout layout, Epilogue epilogue) {
        if (cpu::panels_in_place(layout, N))
            cpu::linear_panels(pool, out, in, cpu::in_place_panels(weight, N), bias, S, K, N,
                               epilogue);
        else
            cpu::linear_packed(pool, out, in, cpu::PackedWeight(pool, weight, K, N, layout), bias,
                               S, epilogue);
    };
    const int cases = 7 * 3 * 5 * 2 * 4 * 2 * 3;
    const int tables = for_each_kernel_table([&](const cpu::KernelTable&) {
        CHECK(check_linear_cases(packed, shapes_S, shapes_K, shapes_N) == cases);
        CHECK(check_linear_cases(in_place, shapes_S, shapes_K, shapes_N) == cases);
    });
    CHECK(tables == int(cpu::supported_kernels().size()));
    CHECK(tables >= 1);
}

namespace {

// The hidden state and every map of one forward.
struct Outputs {
    std::vector<std::vector<float>> maps;
    std::vector<float> hidden;
};

Outputs run_forward(Engine& engine, std::span<const int32_t> ids, Backend backend) {
    Outputs outputs;
    ForwardRequest request;
    request.ids = ids;
    request.hidden = true;
    request.backend = backend;
    const ForwardResult result = engine.run(request, [&](const AttentionSlot& slot) {
        outputs.maps.emplace_back(slot.maps.begin(), slot.maps.end());
    });
    outputs.hidden.assign(result.hidden.begin(), result.hidden.end());
    return outputs;
}

}  // namespace

TEST_CASE(
    "engine: panel and OpenBLAS projections agree with the Reference forward on every "
    "kernel table") {
    for_each_kernel_table([](const cpu::KernelTable& table) {
        for (const char* model_type : {"gpt2", "bert"}) {  // InOut and OutIn weights
            ModelConfig config = engine_test::tiny_config();
            config.model_type = model_type;
            config.max_positions = table.panel_max_rows + 1;  // room for the longest case
            const bool out_in = config.model_type == "bert";
            if (out_in) {
                config.activation = Activation::GeluErf;
                config.type_vocab_size = 2;
            }
            EngineOptions packed_options{2, 2, 0};
            EngineOptions unpacked_options = packed_options;
            unpacked_options.packed_weights_max_bytes = 0;
            Engine packed = Engine::random(config, 5, packed_options);
            Engine unpacked = Engine::random(config, 5, unpacked_options);
            CHECK(packed.packs_weights());
            CHECK_FALSE(unpacked.packs_weights());
            std::mt19937 rng(17);
            std::uniform_int_distribution<int32_t> id(0, config.vocab_size - 1);
            // Short inputs on the panel kernels, the longest of them, and one past (OpenBLAS).
            for (int S : {1, 9, table.in_place_max_rows, table.in_place_max_rows + 1,
                          table.panel_max_rows, table.panel_max_rows + 1}) {
                std::vector<int32_t> ids(static_cast<size_t>(S));
                for (auto& v : ids) v = id(rng);
                const Outputs want = run_forward(packed, ids, Backend::Reference);
                for (Engine* engine : {&packed, &unpacked}) {
                    const Outputs got = run_forward(*engine, ids, Backend::Fast);
                    INFO(model_type << " S=" << S << " packed=" << engine->packs_weights());
                    REQUIRE(got.maps.size() == want.maps.size());
                    for (size_t l = 0; l < got.maps.size(); ++l) {
                        const Diff d = compare(got.maps[l], want.maps[l]);
                        INFO("layer " << l << " maps max_abs=" << d.max_abs);
                        CHECK(d.max_abs <= 1e-5);
                    }
                    const Diff dh = compare(got.hidden, want.hidden);
                    INFO("hidden max_abs=" << dh.max_abs);
                    CHECK(dh.max_abs <= 1e-4);
                }
            }
        }
    });
}

TEST_CASE(
    "engine: (out, in) weights are packed within the byte budget, layer by layer, on the "
    "first short input") {
    ModelConfig config = engine_test::tiny_config();
    config.model_type = "bert";
    config.activation = Activation::GeluErf;
    config.type_vocab_size = 2;
    config.max_positions = cpu::panel_max_rows() + 1;
    // tiny_config: 3 layers, C = 32, F = 128, all multiples of 16, so no panel padding.
    const int64_t C = 32, F = 128, layer_bytes = (C * 3 * C + C * C + 2 * C * F) * 4;
    EngineOptions options{1, 2, 0};
    options.packed_weights_max_bytes = 3 * layer_bytes;
    Engine engine = Engine::random(config, 1, options);
    CHECK(engine.packs_weights());
    CHECK(engine.loaded().packed_bytes() == 0);  // nothing at load
    std::vector<int32_t> ids(size_t(cpu::panel_max_rows()) + 1, 7);
    const std::vector<uint8_t> first_layer_only = {1, 0, 0};
    ForwardRequest request;
    request.ids = ids;
    request.emit_layers = first_layer_only;
    engine.run(request, [](const AttentionSlot&) {});
    CHECK(engine.loaded().packed_bytes() == 0);  // a long input runs on OpenBLAS
    // An input on packed panels with the table in use (the portable set packs up to 8 rows).
    request.ids = std::span<const int32_t>(ids).first(size_t(std::min(9, cpu::panel_max_rows())));
    engine.run(request, [](const AttentionSlot&) {});
    CHECK(engine.loaded().packed_bytes() == size_t(layer_bytes));  // the one layer it needed
    request.emit_layers = {};
    engine.run(request, [](const AttentionSlot&) {});
    CHECK(engine.loaded().packed_bytes() == size_t(3 * layer_bytes));
    options.packed_weights_max_bytes = 3 * layer_bytes - 1;
    CHECK_FALSE(Engine::random(config, 1, options).packs_weights());
    // (in, out) weights: read in place by short inputs, packed only past in_place_max_rows.
    config.model_type = "gpt2";
    config.activation = Activation::GeluTanh;
    config.type_vocab_size = 0;
    options.packed_weights_max_bytes = int64_t(1) << 30;
    Engine gpt2 = Engine::random(config, 1, options);
    CHECK(gpt2.packs_weights());
    request.ids =
        std::span<const int32_t>(ids).first(size_t(std::min(9, cpu::in_place_max_rows())));
    gpt2.run(request, [](const AttentionSlot&) {});
    CHECK(gpt2.loaded().packed_bytes() == 0);
    if (cpu::in_place_max_rows() < cpu::panel_max_rows()) {
        request.ids = std::span<const int32_t>(ids).first(size_t(cpu::in_place_max_rows()) + 1);
        gpt2.run(request, [](const AttentionSlot&) {});
        CHECK(gpt2.loaded().packed_bytes() == size_t(3 * layer_bytes));
    }
}
