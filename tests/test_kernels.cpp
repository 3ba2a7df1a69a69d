// Fast CPU kernels (headmap::cpu) against the plain-loop reference (headmap::reference): linear
// with every epilogue and layout, layernorm, exp/softmax, attention with and without emitted maps,
// the whole forward pass Fast vs Reference, emit_layers early exit, tap order, and the ThreadPool.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/engine.h"
#include "engine_test_support.h"
#include "headmap/error.hpp"
#include "kernel_test_support.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/thread_pool.h"

using namespace headmap;
using engine_test::tiny_config;
using namespace kernel_test;

namespace {

std::vector<int32_t> random_ids(int n, int vocab, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int32_t> dist(0, vocab - 1);
    std::vector<int32_t> ids(static_cast<size_t>(n));
    for (auto& id : ids) id = dist(rng);
    return ids;
}

// One forward through Engine::run, keeping a copy of every published map and of the hidden state.
struct Captured {
    ForwardResult result;
    std::vector<int> layers;               // layer index of each published slot, in order
    std::vector<std::vector<float>> maps;  // one per published slot
    std::vector<int> seq_lens, n_heads;
    std::vector<float> hidden;
};

Captured capture(Engine& engine, std::span<const int32_t> ids, Backend backend,
                 std::span<const uint8_t> emit = {}, bool hidden = true) {
    Captured c;
    ForwardRequest request;
    request.ids = ids;
    request.emit_layers = emit;
    request.hidden = hidden;
    request.backend = backend;
    c.result = engine.run(request, [&](const AttentionSlot& slot) {
        c.layers.push_back(slot.layer);
        c.seq_lens.push_back(slot.seq_len);
        c.n_heads.push_back(slot.n_head);
        c.maps.emplace_back(slot.maps.begin(), slot.maps.end());
    });
    c.hidden.assign(c.result.hidden.begin(), c.result.hidden.end());
    return c;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// linear

TEST_CASE("linear: fast matches reference for every epilogue, layout, odd shape, bias and pool") {
    // On every kernel table this CPU runs (kernels/cpu/isa.h).
    CHECK(for_each_kernel_table([&](const cpu::KernelTable&) {
              const int shapes_S[] = {1, 7, 65}, shapes_K[] = {5, 24, 64},
                        shapes_N[] = {3, 17, 72, 100};
              CHECK(check_linear_cases(cpu::linear, shapes_S, shapes_K, shapes_N) ==
                    3 * 3 * 4 * 2 * 4 * 2 * 3);
          }) >= 1);
}

TEST_CASE("linear: GELU epilogues stay accurate over a wide input range") {
    // On every kernel table this CPU runs (kernels/cpu/isa.h).
    CHECK(for_each_kernel_table([&](const cpu::KernelTable&) {
              // K = 1 with weight 1 makes the pre-activation equal to the input, so this probes the
              // GELU approximations directly, including the tails where exp is clamped.
              cpu::ThreadPool pool(2);
              const int S = 1, K = 1, N = 4001;
              std::vector<float> weight(static_cast<size_t>(N)), bias(size_t(N), 0.0f), in{1.0f};
              for (int n = 0; n < N; ++n)
                  weight[size_t(n)] = -20.0f + 40.0f * float(n) / float(N - 1);
              for (Epilogue epilogue : {Epilogue::GeluTanh, Epilogue::GeluErf}) {
                  std::vector<float> got(static_cast<size_t>(N)), want(static_cast<size_t>(N));
                  cpu::linear(pool, got, in, weight, bias, S, K, N, WeightLayout::InOut, epilogue);
                  reference::linear(want, in, weight, bias, S, K, N, WeightLayout::InOut, epilogue);
                  double worst = 0;
                  for (int n = 0; n < N; ++n) {
                      // absolute error scaled by max(1, |x|): GELU(x) ~ x for large positive x
                      const double e = std::fabs(double(got[size_t(n)]) - want[size_t(n)]) /
                                       std::max(1.0, std::fabs(double(weight[size_t(n)])));
                      worst = std::max(worst, e);
                      REQUIRE(std::isfinite(got[size_t(n)]));
                  }
                  INFO(name(epilogue) << " worst scaled error " << worst);
                  CHECK(worst <= 1e-6);
              }
              // Spot values: gelu(0) = 0, gelu(x) -> x for large x, -> 0 for very negative x.
              std::vector<float> probe{0.0f, 30.0f, -30.0f}, w3{1.0f, 0, 0, 0, 1.0f, 0, 0, 0, 1.0f},
                  out(3);
              for (Epilogue epilogue : {Epilogue::GeluTanh, Epilogue::GeluErf}) {
                  cpu::linear(pool, out, probe, w3, {}, 1, 3, 3, WeightLayout::InOut, epilogue);
                  CHECK(out[0] == 0.0f);
                  CHECK(out[1] == doctest::Approx(30.0f).epsilon(1e-6));
                  CHECK(std::fabs(out[2]) <= 1e-6f);
              }
          }) >= 1);
}

// ------------------------------------------------------------------------------------------------
// layernorm (embed: test_embeddings.cpp)

TEST_CASE("layernorm: fast matches reference") {
    // On every kernel table this CPU runs (kernels/cpu/isa.h).
    CHECK(for_each_kernel_table([&](const cpu::KernelTable&) {
              std::vector<std::unique_ptr<cpu::ThreadPool>> pools;
              for (int t : {1, 2, 3}) pools.push_back(std::make_unique<cpu::ThreadPool>(t));
              uint32_t seed = 100;
              for (int S : {1, 7, 65})
                  for (int C : {5, 8, 24, 33, 64, 768}) {
                      // Offset rows (mean 3, std 2) so a naive E[x^2]-E[x]^2 variance would lose
                      // precision.
                      const auto in = random_normal(size_t(S) * C, 3.0f, 2.0f, seed++);
                      const auto w = random_normal(size_t(C), 1.0f, 0.3f, seed++);
                      const auto b = random_normal(size_t(C), 0.0f, 0.5f, seed++);
                      std::vector<float> want(size_t(S) * C);
                      reference::layernorm(want, in, w, b, S, C, 1e-5f);
                      for (auto& pool : pools) {
                          Guarded got(size_t(S) * C);
                          cpu::layernorm(*pool, got.span(), in, w, b, S, C, 1e-5f);
                          const Diff d = compare(got.span(), want);
                          INFO("S=" << S << " C=" << C << " threads=" << pool->size()
                                    << " max_abs=" << d.max_abs);
                          CHECK(d.max_abs <= 1e-5 * std::max(1.0, d.magnitude));
                          CHECK(got.guards_intact());
                      }
                  }
              // A constant row normalises to the bias (variance 0, eps keeps it finite).
              cpu::ThreadPool pool(2);
              std::vector<float> flat(16, 7.25f), w(16, 2.0f), b(16, 0.5f), out(16);
              cpu::layernorm(pool, out, flat, w, b, 1, 16, 1e-5f);
              for (float v : out) CHECK(v == doctest::Approx(0.5f).epsilon(1e-6));
          }) >= 1);
}

// ------------------------------------------------------------------------------------------------
// exp / softmax

TEST_CASE("exp_inplace: relative error <= 5e-7 over [-87, 88]") {
    // On every kernel table this CPU runs (kernels/cpu/isa.h).
    CHECK(for_each_kernel_table([&](const cpu::KernelTable&) {
              const int n = 2'000'003;  // odd length: exercises the non-multiple-of-8 tail
              std::vector<float> x(size_t(n) + kGuardFloats, kGuard);
              for (int i = 0; i < n; ++i)
                  x[size_t(i)] = float(-87.0 + 175.0 * double(i) / double(n - 1));
              x[size_t(n) - 1] = 88.0f;
              const std::vector<float> input(x.begin(), x.begin() + n);
              cpu::exp_inplace(x.data(), n);
              double worst = 0;
              float worst_at = 0;
              for (int i = 0; i < n; ++i) {
                  const double want = std::exp(double(input[size_t(i)]));
                  const double rel = std::fabs(double(x[size_t(i)]) - want) / want;
                  if (!(rel <= worst)) worst = rel, worst_at = input[size_t(i)];
              }
              INFO("worst relative error " << worst << " at x=" << worst_at);
              CHECK(worst <= 5e-7);
              for (size_t i = size_t(n); i < x.size(); ++i) REQUIRE(x[i] == kGuard);

              // Exact-ish special values and the documented clamping outside [-87, 88].
              std::vector<float> special{0.0f, 1.0f, -1.0f, -0.0f, 1e-30f, -1000.0f, 1000.0f};
              cpu::exp_inplace(special.data(), int(special.size()));
              CHECK(std::fabs(special[0] - 1.0f) <= std::numeric_limits<float>::epsilon());
              CHECK(special[1] == doctest::Approx(2.718281828).epsilon(5e-7));
              CHECK(special[2] == doctest::Approx(0.3678794412).epsilon(5e-7));
              CHECK(std::fabs(special[3] - 1.0f) <= std::numeric_limits<float>::epsilon());
              CHECK(std::fabs(special[4] - 1.0f) <= std::numeric_limits<float>::epsilon());
              CHECK(std::isfinite(special[5]));
              CHECK(special[5] >= 0.0f);
              CHECK(special[5] <= 2e-38f);
              CHECK(std::isfinite(special[6]));
              CHECK(special[6] > 1e38f);
              cpu::exp_inplace(special.data(), 0);  // n = 0 is a no-op
          }) >= 1);
}

TEST_CASE("softmax_row: sums to 1, matches a double softmax, survives large offsets") {
    // On every kernel table this CPU runs (kernels/cpu/isa.h).
    CHECK(for_each_kernel_table([&](const cpu::KernelTable&) {
              uint32_t seed = 7;
              for (int n : {1, 2, 7, 8, 9, 64, 65, 1000})
                  for (float offset : {0.0f, -50.0f, 1e4f})
                      for (float stddev : {0.1f, 3.0f, 30.0f}) {
                          auto row = random_normal(size_t(n), offset, stddev, seed++);
                          const auto input = row;
                          row.push_back(kGuard);
                          cpu::softmax_row(row.data(), n);
                          double max_in = -INFINITY, sum_exp = 0, sum = 0, worst = 0;
                          for (float v : input) max_in = std::max(max_in, double(v));
                          for (float v : input) sum_exp += std::exp(double(v) - max_in);
                          for (int j = 0; j < n; ++j) {
                              const double want =
                                  std::exp(double(input[size_t(j)]) - max_in) / sum_exp;
                              worst = std::max(worst, std::fabs(row[size_t(j)] - want));
                              sum += row[size_t(j)];
                              REQUIRE(row[size_t(j)] >= 0.0f);
                              REQUIRE(row[size_t(j)] <= 1.0f + 1e-6f);
                          }
                          INFO("n=" << n << " offset=" << offset << " std=" << stddev
                                    << " sum=" << sum << " worst=" << worst);
                          CHECK(std::fabs(sum - 1.0) <= 1e-5);
                          CHECK(worst <= 1e-6);
                          CHECK(row[size_t(n)] == kGuard);
                          if (n == 1) CHECK(row[0] == 1.0f);
                      }
          }) >= 1);
}

// ------------------------------------------------------------------------------------------------
// attention

TEST_CASE("attention: fast matches reference, causal and not, emitted maps and scratch") {
    // On every kernel table this CPU runs (kernels/cpu/isa.h).
    CHECK(for_each_kernel_table([&](const cpu::KernelTable&) {
              std::vector<std::unique_ptr<cpu::ThreadPool>> pools;
              for (int t : {1, 3}) pools.push_back(std::make_unique<cpu::ThreadPool>(t));
              uint32_t seed = 1000;
              int cases = 0;
              for (int S : {1, 2, 63, 64, 65, 130, 200})
                  for (int H : {1, 3})
                      for (int D : {8, 16})
                          for (bool causal : {true, false}) {
                              const int C = H * D;
                              const AttentionShape shape{S, H, D, causal};
                              // std 2: scores have std ~4 (D=16), so the maps are peaky.
                              const auto qkv = random_normal(size_t(S) * 3 * C, 0.0f, 2.0f, seed++);
                              std::vector<float> want_maps(size_t(H) * S * S, kNaN),
                                  want_ctx(size_t(S) * C, kNaN);
                              reference::attention(want_ctx, want_maps, qkv, shape);
                              for (auto& pool : pools) {
                                  INFO("S=" << S << " H=" << H << " D=" << D << " causal=" << causal
                                            << " threads=" << pool->size());
                                  // Emitted path: maps written in place (NaN first: every entry
                                  // must be set).
                                  Guarded maps(size_t(H) * S * S), ctx(size_t(S) * C);
                                  cpu::attention(*pool, ctx.span(), maps.span(), {}, qkv, shape);
                                  const Diff dm = compare(maps.span(), want_maps);
                                  const Diff dc = compare(ctx.span(), want_ctx);
                                  INFO("maps max_abs=" << dm.max_abs << " at " << dm.where
                                                       << ", ctx max_abs=" << dc.max_abs << " at "
                                                       << dc.where);
                                  // Scores are fp32 (sgemm) in the fast path and double in the
                                  // reference, so each probability carries a relative error of a
                                  // few 1e-6: measured worst 1.13e-6 absolute at p = 0.56 (S=200,
                                  // D=16). Hence 2e-6 absolute, plus a per-entry bound proportional
                                  // to p that keeps small entries honest.
                                  CHECK(dm.max_abs <= 2e-6);
                                  size_t off_relative = 0;
                                  for (size_t e = 0; e < want_maps.size(); ++e)
                                      if (!(std::fabs(double(maps.data()[e]) - want_maps[e]) <=
                                            1e-7 + 1e-5 * want_maps[e]))
                                          ++off_relative;
                                  CHECK(off_relative == 0);
                                  CHECK(dc.max_abs <= 1e-5);
                                  CHECK(maps.guards_intact());
                                  CHECK(ctx.guards_intact());

                                  bool upper_zero = true, rows_sum_to_one = true, finite = true;
                                  double worst_row = 0;
                                  for (int h = 0; h < H; ++h)
                                      for (int i = 0; i < S; ++i) {
                                          const float* row = maps.data() + (size_t(h) * S + i) * S;
                                          double sum = 0;
                                          for (int j = 0; j < S; ++j) {
                                              if (!std::isfinite(row[j]) || row[j] < 0.0f)
                                                  finite = false;
                                              if (causal && j > i && row[j] != 0.0f)
                                                  upper_zero = false;
                                              sum += row[j];
                                          }
                                          worst_row = std::max(worst_row, std::fabs(sum - 1.0));
                                          if (std::fabs(sum - 1.0) > 1e-5) rows_sum_to_one = false;
                                      }
                                  INFO("worst row-sum error " << worst_row);
                                  CHECK(finite);
                                  CHECK(upper_zero);  // exactly 0, not merely small
                                  CHECK(rows_sum_to_one);

                                  // Scratch path: no maps, scores in a scratch sized for exactly
                                  // this S.
                                  Guarded scratch(
                                      size_t(cpu::attention_scratch_floats(pool->size(), S)));
                                  Guarded ctx2(size_t(S) * C);
                                  cpu::attention(*pool, ctx2.span(), {}, scratch.span(), qkv,
                                                 shape);
                                  const Diff ds = compare(ctx2.span(), ctx.span());
                                  INFO("scratch ctx vs emitted ctx max_abs=" << ds.max_abs);
                                  CHECK(ds.max_abs <= 1e-6);
                                  CHECK(compare(ctx2.span(), want_ctx).max_abs <= 1e-5);
                                  CHECK(scratch.guards_intact());
                                  CHECK(ctx2.guards_intact());
                                  ++cases;
                              }
                          }
              CHECK(cases == 7 * 2 * 2 * 2 * 2);
          }) >= 1);
}

TEST_CASE("attention: a scratch sized for a longer max_seq works for shorter sequences") {
    cpu::ThreadPool pool(3);
    const int S = 70, H = 2, D = 8, C = H * D, max_seq = 200;
    const AttentionShape shape{S, H, D, true};
    const auto qkv = random_normal(size_t(S) * 3 * C, 0.0f, 2.0f, 5);
    std::vector<float> want_maps(size_t(H) * S * S), want_ctx(size_t(S) * C);
    reference::attention(want_ctx, want_maps, qkv, shape);
    Guarded scratch(size_t(cpu::attention_scratch_floats(pool.size(), max_seq)), 0.0f);
    Guarded ctx(size_t(S) * C);
    cpu::attention(pool, ctx.span(), {}, scratch.span(), qkv, shape);
    CHECK(compare(ctx.span(), want_ctx).max_abs <= 1e-5);
    CHECK(scratch.guards_intact());
    CHECK(ctx.guards_intact());
}

// ------------------------------------------------------------------------------------------------
// Engine: Fast vs Reference, emit_layers, taps

TEST_CASE("engine: Fast and Reference forwards agree on every map and the hidden state") {
    // On every kernel table this CPU runs (kernels/cpu/isa.h).
    CHECK(for_each_kernel_table([&](const cpu::KernelTable&) {
              const ModelConfig config = tiny_config();
              Engine engine = Engine::random(config, 42, EngineOptions{3, 2, 0});
              REQUIRE(engine.max_seq() == 200);
              for (int S : {1, 50, 130}) {
                  const auto ids = random_ids(S, config.vocab_size, uint32_t(S));
                  const Captured fast = capture(engine, ids, Backend::Fast);
                  const Captured ref = capture(engine, ids, Backend::Reference);
                  INFO("S=" << S);
                  REQUIRE(fast.maps.size() == size_t(config.n_layer));
                  REQUIRE(ref.maps.size() == size_t(config.n_layer));
                  CHECK(fast.result.layers_computed == config.n_layer);
                  CHECK(fast.result.maps_published == config.n_layer);
                  CHECK(ref.result.layers_computed == config.n_layer);
                  CHECK(ref.result.maps_published == config.n_layer);
                  for (int l = 0; l < config.n_layer; ++l) {
                      INFO("layer " << l);
                      CHECK(fast.layers[size_t(l)] == l);
                      CHECK(ref.layers[size_t(l)] == l);
                      CHECK(fast.seq_lens[size_t(l)] == S);
                      CHECK(fast.n_heads[size_t(l)] == config.n_head);
                      REQUIRE(fast.maps[size_t(l)].size() == size_t(config.n_head) * S * S);
                      const Diff d = compare(fast.maps[size_t(l)], ref.maps[size_t(l)]);
                      INFO("maps max_abs=" << d.max_abs);
                      CHECK(d.max_abs <= 1e-5);
                  }
                  REQUIRE(fast.hidden.size() == size_t(S) * config.d_model);
                  const Diff dh = compare(fast.hidden, ref.hidden);
                  INFO("hidden max_abs=" << dh.max_abs);
                  CHECK(dh.max_abs <= 1e-4);
              }
          }) >= 1);
}

TEST_CASE("engine: Fast and Reference agree when attention is peaky") {
    // Random weights (std 0.02) give nearly uniform maps; scale the fused QKV weights up so the
    // maps are sharp. The weights live in the engine's own (mutable) random storage.
    const ModelConfig config = tiny_config();
    Engine engine = Engine::random(config, 7, EngineOptions{2, 2, 0});
    for (const LayerWeights& w : engine.weights().layers) {
        float* qkv = const_cast<float*>(w.qkv_weight.data());
        for (size_t i = 0; i < w.qkv_weight.size(); ++i) qkv[i] *= 10.0f;
    }
    const auto ids = random_ids(130, config.vocab_size, 99);
    const Captured fast = capture(engine, ids, Backend::Fast);
    const Captured ref = capture(engine, ids, Backend::Reference);
    REQUIRE(fast.maps.size() == ref.maps.size());
    float peak = 0;
    for (size_t l = 0; l < fast.maps.size(); ++l) {
        for (float v : fast.maps[l])
            if (v < 0.999f) peak = std::max(peak, v);  // ignore the trivial first row
        const Diff d = compare(fast.maps[l], ref.maps[l]);
        INFO("layer " << l << " maps max_abs=" << d.max_abs);
        CHECK(d.max_abs <= 1e-5);
    }
    CHECK(peak > 0.5f);  // the maps really are peaky
    const Diff dh = compare(fast.hidden, ref.hidden);
    INFO("hidden max_abs=" << dh.max_abs);
    CHECK(dh.max_abs <= 1e-4);
}

TEST_CASE("engine: emit_layers stops after the last requested layer") {
    const ModelConfig config = tiny_config();
    Engine engine = Engine::random(config, 3, EngineOptions{2, 2, 0});
    const auto ids = random_ids(40, config.vocab_size, 5);
    const Captured all = capture(engine, ids, Backend::Fast, {}, false);
    REQUIRE(all.maps.size() == 3);
    CHECK(all.result.layers_computed == 3);
    CHECK(all.result.hidden.empty());

    for (Backend backend : {Backend::Fast, Backend::Reference}) {
        INFO("backend " << (backend == Backend::Fast ? "Fast" : "Reference"));
        {  // asking for layer 0 stops after layer 0
            const std::vector<uint8_t> emit{1, 0, 0};
            const Captured c = capture(engine, ids, backend, emit, false);
            CHECK(c.result.layers_computed == 1);
            CHECK(c.result.maps_published == 1);
            REQUIRE(c.layers.size() == 1);
            CHECK(c.layers[0] == 0);
            CHECK(compare(c.maps[0], all.maps[0]).max_abs <= 1e-5);
            CHECK(c.result.hidden.empty());
        }
        {  // asking for layer 1 computes 2 layers and publishes only layer 1
            const std::vector<uint8_t> emit{0, 1, 0};
            const Captured c = capture(engine, ids, backend, emit, false);
            CHECK(c.result.layers_computed == 2);
            CHECK(c.result.maps_published == 1);
            REQUIRE(c.layers.size() == 1);
            CHECK(c.layers[0] == 1);
            CHECK(c.seq_lens[0] == 40);
            CHECK(c.n_heads[0] == config.n_head);
            // Layer 0 went through the scratch path; layer 1's maps must not change.
            CHECK(compare(c.maps[0], all.maps[1]).max_abs <= 1e-5);
        }
        {  // layers 0 and 2
            const std::vector<uint8_t> emit{1, 0, 1};
            const Captured c = capture(engine, ids, backend, emit, false);
            CHECK(c.result.layers_computed == 3);
            CHECK(c.result.maps_published == 2);
            REQUIRE(c.layers.size() == 2);
            CHECK(c.layers[0] == 0);
            CHECK(c.layers[1] == 2);
            CHECK(compare(c.maps[1], all.maps[2]).max_abs <= 1e-5);
        }
        {  // no layer flagged: nothing computed
            const std::vector<uint8_t> emit{0, 0, 0};
            const Captured c = capture(engine, ids, backend, emit, false);
            CHECK(c.result.layers_computed == 0);
            CHECK(c.result.maps_published == 0);
            CHECK(c.layers.empty());
        }
        {  // hidden forces every layer even when only layer 0 is emitted
            const std::vector<uint8_t> emit{1, 0, 0};
            const Captured c = capture(engine, ids, backend, emit, true);
            const Captured full = capture(engine, ids, backend, {}, true);
            CHECK(c.result.layers_computed == 3);
            CHECK(c.result.maps_published == 1);
            REQUIRE(c.hidden.size() == size_t(40) * config.d_model);
            CHECK(compare(c.hidden, full.hidden).max_abs <= 1e-6);
        }
    }
    {  // emit_layers with the wrong length is an error
        const std::vector<uint8_t> emit{1, 0};
        ForwardRequest request;
        request.ids = ids;
        request.emit_layers = emit;
        CHECK_THROWS_AS(engine.run(request, [](const AttentionSlot&) {}), headmap::Error);
    }
}

namespace {

struct TapRecord {
    std::string name;
    int layer;
    size_t size;
};

void record_tap(void* user, const char* name, int layer, std::span<const float> data) {
    static_cast<std::vector<TapRecord>*>(user)->push_back({name, layer, data.size()});
}

}  // namespace

TEST_CASE("engine: taps are called in order with the right layers and sizes") {
    const ModelConfig config = tiny_config();
    Engine engine = Engine::random(config, 11, EngineOptions{2, 2, 0});
    const int S = 9, C = config.d_model, H = config.n_head, F = config.d_ff;
    const auto ids = random_ids(S, config.vocab_size, 1);
    for (Backend backend : {Backend::Fast, Backend::Reference}) {
        for (bool partial : {false, true}) {
            INFO("backend " << (backend == Backend::Fast ? "Fast" : "Reference")
                            << " partial=" << partial);
            std::vector<TapRecord> taps;
            const std::vector<uint8_t> emit_storage{1, 0, 1};
            ForwardRequest request;
            request.ids = ids;
            request.hidden = true;
            request.backend = backend;
            request.tap = record_tap;
            request.tap_user = &taps;
            if (partial) request.emit_layers = emit_storage;
            engine.run(request, [](const AttentionSlot&) {});

            std::vector<TapRecord> want{{"embeddings", -1, size_t(S) * C}};
            for (int l = 0; l < config.n_layer; ++l) {
                want.push_back({"attn_norm", l, size_t(S) * C});
                want.push_back({"qkv", l, size_t(S) * 3 * C});
                want.push_back({"context", l, size_t(S) * C});
                if (!partial || emit_storage[size_t(l)])
                    want.push_back({"attention", l, size_t(H) * S * S});
                want.push_back({"attn_residual", l, size_t(S) * C});
                want.push_back({"mlp_norm", l, size_t(S) * C});
                want.push_back({"mlp_act", l, size_t(S) * F});
                want.push_back({"mlp_residual", l, size_t(S) * C});
            }
            want.push_back({"hidden", config.n_layer - 1, size_t(S) * C});
            std::string got_text, want_text;
            for (const auto& t : taps)
                got_text +=
                    t.name + "@" + std::to_string(t.layer) + ":" + std::to_string(t.size) + " ";
            for (const auto& t : want)
                want_text +=
                    t.name + "@" + std::to_string(t.layer) + ":" + std::to_string(t.size) + " ";
            CHECK(got_text == want_text);
        }
    }
}

// ------------------------------------------------------------------------------------------------
// ThreadPool

TEST_CASE("ThreadPool: run executes every task exactly once") {
    for (int threads : {1, 2, 3, 4, 8}) {
        cpu::ThreadPool pool(threads);
        CHECK(pool.size() == threads);
        for (int n_tasks : {0, 1, 5, 1000}) {
            const int repeats = n_tasks == 1000 ? 100 : 500;
            std::vector<std::atomic<int>> hits(size_t(std::max(n_tasks, 1)));
            std::atomic<int> bad_thread{0}, total{0};
            bool all_once = true;
            for (int rep = 0; rep < repeats; ++rep) {
                for (auto& h : hits) h.store(0, std::memory_order_relaxed);
                total.store(0);
                pool.run(n_tasks, [&](int task, int thread) {
                    if (thread < 0 || thread >= threads) bad_thread.fetch_add(1);
                    if (task < 0 || task >= n_tasks)
                        bad_thread.fetch_add(1000);
                    else
                        hits[size_t(task)].fetch_add(1, std::memory_order_relaxed);
                    total.fetch_add(1, std::memory_order_relaxed);
                });
                // run() returns only after every task finished: counts are final here.
                if (total.load() != n_tasks) all_once = false;
                for (int t = 0; t < n_tasks; ++t)
                    if (hits[size_t(t)].load(std::memory_order_relaxed) != 1) all_once = false;
            }
            INFO("threads=" << threads << " tasks=" << n_tasks);
            CHECK(all_once);
            CHECK(bad_thread.load() == 0);
        }
    }
}

TEST_CASE("ThreadPool: run() returns only after slow tasks on other threads finished") {
    // Tasks that take a while make "the caller ran out of tasks" and "every task finished"
    // different moments; returning early would leave tasks unfinished (or running into the next
    // run()).
    for (int threads : {2, 3, 4}) {
        cpu::ThreadPool pool(threads);
        for (int n_tasks : {2, 3, 7, 64}) {
            std::vector<std::atomic<int>> finished(static_cast<size_t>(n_tasks));
            bool ok = true;
            for (int rep = 0; rep < 20; ++rep) {
                for (auto& f : finished) f.store(0);
                pool.run(n_tasks, [&](int task, int) {
                    const auto until = std::chrono::steady_clock::now() +
                                       std::chrono::microseconds(task % 2 ? 300 : 50);
                    while (std::chrono::steady_clock::now() < until) {
                    }
                    finished[size_t(task)].fetch_add(1);
                });
                for (auto& f : finished) ok &= f.load() == 1;
            }
            INFO("threads=" << threads << " tasks=" << n_tasks);
            CHECK(ok);
        }
    }
}

TEST_CASE("ThreadPool: results written by tasks are visible after run and work is shared") {
    cpu::ThreadPool pool(3);
    std::vector<int> out(4096);
    std::vector<std::atomic<int>> per_thread(3);
    for (int rep = 0; rep < 50; ++rep) {
        std::fill(out.begin(), out.end(), -1);
        pool.run(int(out.size()), [&](int task, int thread) {
            out[size_t(task)] = task * 3 + rep;  // plain (non-atomic) writes
            per_thread[size_t(thread)].fetch_add(1, std::memory_order_relaxed);
        });
        bool ok = true;
        for (int t = 0; t < int(out.size()); ++t) ok &= out[size_t(t)] == t * 3 + rep;
        REQUIRE(ok);
    }
    int sum = 0;
    for (auto& c : per_thread) sum += c.load();
    CHECK(sum == 50 * 4096);
    CHECK(per_thread[0].load() > 0);  // the caller takes part
}

TEST_CASE("engine: device statistics need a CUDA engine") {
    Engine engine = Engine::random(tiny_config(), 3, EngineOptions{1, 2, 0});
    const auto ids = random_ids(5, tiny_config().vocab_size, 1);
    std::vector<DeviceHeadStats> out;
    const DeviceStatsRequest device{.out = &out};
    ForwardRequest request;
    request.ids = ids;
    request.device_stats = &device;
    CHECK_THROWS_WITH_AS(engine.forward(request),
                         doctest::Contains("device statistics need a CUDA engine"), headmap::Error);
    CHECK(out.empty());
}
