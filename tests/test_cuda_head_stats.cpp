// headmap::cuda::head_stats against analysis::head_stats_reference: random softmax maps (flat,
// peaky, exact zeros, ties, one-hot rows), causal and not, with and without column sums, plus
// hand-worked 3 x 3 maps and a uniform map whose top-5% mass is exact. Causal maps hold NaN
// above the diagonal, so any read of a disallowed entry shows. Device outputs start as NaN
// bytes (0xFF) followed by a 0xFF guard band, so a field the kernel forgets fails the comparison
// and a write past the end fails the guard check.
#include "cuda_test_main.h"  // first: defines DOCTEST_CONFIG_IMPLEMENT

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "engine/analysis/analysis.h"
#include "headmap/error.hpp"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"

using namespace headmap;
namespace gpu = headmap::cuda;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int kFields = gpu::kHeadStatFields;
constexpr size_t kGuard = 32;  // doubles after each output

static_assert(gpu::kStatTop5Mass == 11 && kFields == 12, "HeadStatField follows metric_values");

// Random maps (H, S, S): row i of head h is a softmax over its allowed keys (causal: j <= i),
// computed in double and rounded to float; what is not allowed is NaN. The row kind cycles with
// i + h: flat logits, peaky logits, logits with -inf (exact zeros), integer logits (exact ties
// within the row), a one-hot row, a uniform row.
std::vector<float> random_maps(int H, int S, bool causal, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_int_distribution<int> small(0, 2);
    std::vector<float> maps(size_t(H) * S * S, kNaN);
    std::vector<double> p(static_cast<size_t>(S));
    for (int h = 0; h < H; ++h)
        for (int i = 0; i < S; ++i) {
            const int keys = causal ? i + 1 : S;
            const int kind = (i + h) % 6;
            for (int j = 0; j < keys; ++j) {
                double logit = 0;
                if (kind == 0) logit = 0.3 * normal(rng);
                if (kind == 1) logit = 6.0 * normal(rng);
                if (kind == 2) logit = normal(rng) < 0.0 ? -INFINITY : normal(rng);
                if (kind == 3) logit = small(rng);
                p[size_t(j)] = logit;
            }
            if (kind == 2) p[size_t(std::uniform_int_distribution<int>(0, keys - 1)(rng))] = 0.0;
            if (kind == 4) {  // one-hot
                std::fill(p.begin(), p.begin() + keys, -INFINITY);
                p[size_t(std::uniform_int_distribution<int>(0, keys - 1)(rng))] = 0.0;
            }
            const double top = *std::max_element(p.begin(), p.begin() + keys);
            double sum = 0;
            for (int j = 0; j < keys; ++j) sum += (p[size_t(j)] = std::exp(p[size_t(j)] - top));
            float* row = maps.data() + (size_t(h) * S + i) * S;
            for (int j = 0; j < keys; ++j) row[j] = float(p[size_t(j)] / sum);
        }
    return maps;
}

struct Result {
    std::vector<double> stats;    // (H, kFields)
    std::vector<double> columns;  // (H, S), empty without column sums
    bool guards_ok = true;
};

// n doubles of 0xFF bytes (NaN) followed by kGuard more.
gpu::DeviceBuffer<double> nan_buffer(cudaStream_t stream, size_t n) {
    gpu::DeviceBuffer<double> buffer(n + kGuard);
    gpu::check(cudaMemsetAsync(buffer.data(), 0xFF, buffer.bytes(), stream), "cudaMemsetAsync");
    return buffer;
}

std::vector<double> download(const gpu::Stream& stream, const gpu::DeviceBuffer<double>& buffer,
                             size_t n, bool* guards_ok) {
    std::vector<double> all(buffer.size());
    gpu::check(cudaMemcpyAsync(all.data(), buffer.data(), buffer.bytes(), cudaMemcpyDeviceToHost,
                               stream.get()),
               "cudaMemcpyAsync");
    stream.synchronize();
    const auto* bytes = reinterpret_cast<const unsigned char*>(all.data() + n);
    *guards_ok = std::all_of(bytes, bytes + kGuard * sizeof(double),
                             [](unsigned char b) { return b == 0xFF; });
    all.resize(n);
    return all;
}

Result run_gpu(const std::vector<float>& maps, int H, int S, bool causal, double threshold,
               bool columns) {
    const gpu::Stream stream;
    gpu::DeviceBuffer<float> d_maps(maps.size());
    gpu::check(cudaMemcpyAsync(d_maps.data(), maps.data(), maps.size() * sizeof(float),
                               cudaMemcpyHostToDevice, stream.get()),
               "cudaMemcpyAsync");
    const size_t n_stats = size_t(H) * kFields, n_columns = size_t(H) * S;
    auto d_stats = nan_buffer(stream.get(), n_stats);
    auto d_columns = nan_buffer(stream.get(), n_columns);
    gpu::head_stats(stream.get(), d_maps.data(), H, S, causal, threshold, d_stats.data(),
                    columns ? d_columns.data() : nullptr);
    Result r;
    bool stats_guard = false, columns_guard = false;
    r.stats = download(stream, d_stats, n_stats, &stats_guard);
    const auto got_columns = download(stream, d_columns, n_columns, &columns_guard);
    r.guards_ok = stats_guard && columns_guard;
    if (columns) {
        r.columns = got_columns;
    } else {  // no column sums: the buffer must be untouched
        const auto* bytes = reinterpret_cast<const unsigned char*>(got_columns.data());
        r.guards_ok = r.guards_ok && std::all_of(bytes, bytes + n_columns * sizeof(double),
                                                 [](unsigned char b) { return b == 0xFF; });
    }
    return r;
}

// The largest |got - want| over the fields, and the field where it is (NaN counts as inf).
struct Worst {
    double diff = 0;
    std::string where = "-";
    void add(double got, double want, double scale, const std::string& name) {
        const double d =
            std::isnan(got) || std::isnan(want) ? INFINITY : std::fabs(got - want) / scale;
        if (d > diff || std::isinf(d)) diff = d, where = name;
    }
};

}  // namespace

TEST_CASE("cuda head_stats: matches head_stats_reference on random maps") {
    uint32_t seed = 7;
    int cases = 0;
    const int H = 3;
    for (int S : {1, 2, 7, 64, 257, 1024})
        for (bool causal : {true, false})
            for (bool columns : {true, false}) {
                const double threshold = columns ? 0.01 : 0.2;
                INFO("S=" << S << " causal=" << causal << " columns=" << columns);
                const auto maps = random_maps(H, S, causal, seed++);
                const Result got = run_gpu(maps, H, S, causal, threshold, columns);
                CHECK(got.guards_ok);
                Worst stats, sums;
                for (int h = 0; h < H; ++h) {
                    const std::span<const float> map(maps.data() + size_t(h) * S * S,
                                                     size_t(S) * S);
                    const auto want = analysis::head_stats_reference(map, S, causal, threshold);
                    const auto values = analysis::metric_values(want);
                    REQUIRE(values.size() == size_t(kFields));
                    for (int f = 0; f < kFields; ++f)
                        stats.add(got.stats[size_t(h) * kFields + f], values[size_t(f)], 1.0,
                                  "head " + std::to_string(h) + " " +
                                      analysis::metric_names()[size_t(f)]);
                    if (columns)
                        for (int j = 0; j < S; ++j) {
                            const double w = want.column_sums[size_t(j)];
                            sums.add(got.columns[size_t(h) * S + j], w, std::max(1.0, std::fabs(w)),
                                     "head " + std::to_string(h) + " column " + std::to_string(j));
                        }
                }
                INFO("worst field diff " << stats.diff << " at " << stats.where
                                         << ", worst column diff " << sums.diff << " at "
                                         << sums.where);
                CHECK(stats.diff <= 1e-6);
                CHECK(sums.diff <= 1e-6);
                ++cases;
            }
    CHECK(cases == 24);
}

TEST_CASE("cuda head_stats: hand-worked 3 x 3 maps") {
    const double ln2 = std::log(2.0), ln3 = std::log(3.0);
    SUBCASE("not causal, threshold equal to an entry (strictly below counts)") {
        const std::vector<float> map = {0.5f,  0.25f, 0.25f,  //
                                        0.25f, 0.5f,  0.25f,  //
                                        0.0f,  0.0f,  1.0f};
        const Result r = run_gpu(map, 1, 3, false, 0.25, true);
        CHECK(r.guards_ok);
        const auto& s = r.stats;
        CHECK(s[gpu::kStatEntropy] ==
              doctest::Approx(ln2).epsilon(1e-12));  // (1.5 + 1.5 + 0) ln2 / 3
        CHECK(s[gpu::kStatNormalizedEntropy] == doctest::Approx(ln2 / ln3).epsilon(1e-12));
        CHECK(s[gpu::kStatSparsity] == doctest::Approx(2.0 / 9.0).epsilon(1e-15));  // the zeros
        CHECK(s[gpu::kStatMax] == 1.0);
        CHECK(s[gpu::kStatFirst] == doctest::Approx(0.25).epsilon(1e-15));
        CHECK(s[gpu::kStatPrevious] == doctest::Approx(0.125).epsilon(1e-15));
        CHECK(s[gpu::kStatSelf] == doctest::Approx(2.0 / 3.0).epsilon(1e-15));
        CHECK(s[gpu::kStatDistance] == doctest::Approx(1.25 / 3.0).epsilon(1e-15));
        CHECK(s[gpu::kStatLocal] == doctest::Approx(2.75 / 3.0).epsilon(1e-15));
        CHECK(s[gpu::kStatMedium] == doctest::Approx(0.25 / 3.0).epsilon(1e-15));
        CHECK(s[gpu::kStatGlobal] == 0.0);
        CHECK(s[gpu::kStatTop5Mass] == doctest::Approx(1.0 / 3.0).epsilon(1e-15));  // k = 1 of 9
        CHECK(r.columns == std::vector<double>{0.75, 0.75, 1.5});
    }
    SUBCASE("causal, NaN above the diagonal") {
        const std::vector<float> map = {1.0f,  kNaN,  kNaN,  //
                                        0.5f,  0.5f,  kNaN,  //
                                        0.25f, 0.25f, 0.5f};
        const Result r = run_gpu(map, 1, 3, true, 0.3, true);
        CHECK(r.guards_ok);
        const auto& s = r.stats;
        CHECK(s[gpu::kStatEntropy] == doctest::Approx(2.5 * ln2 / 3.0).epsilon(1e-12));
        // Rows 1 and 2 only: ln2 / ln2 and 1.5 ln2 / ln3.
        CHECK(s[gpu::kStatNormalizedEntropy] ==
              doctest::Approx((1.0 + 1.5 * ln2 / ln3) / 2.0).epsilon(1e-12));
        CHECK(s[gpu::kStatSparsity] == doctest::Approx(2.0 / 6.0).epsilon(1e-15));
        CHECK(s[gpu::kStatMax] == 1.0);
        CHECK(s[gpu::kStatFirst] == doctest::Approx(1.75 / 3.0).epsilon(1e-15));
        CHECK(s[gpu::kStatPrevious] == doctest::Approx(0.375).epsilon(1e-15));
        CHECK(s[gpu::kStatSelf] == doctest::Approx(2.0 / 3.0).epsilon(1e-15));
        CHECK(s[gpu::kStatDistance] == doctest::Approx(1.25 / 3.0).epsilon(1e-15));
        CHECK(s[gpu::kStatLocal] == doctest::Approx(2.75 / 3.0).epsilon(1e-15));
        CHECK(s[gpu::kStatMedium] == doctest::Approx(0.25 / 3.0).epsilon(1e-15));
        CHECK(s[gpu::kStatGlobal] == 0.0);
        CHECK(s[gpu::kStatTop5Mass] == doctest::Approx(1.0 / 3.0).epsilon(1e-15));  // k = 1 of 6
        CHECK(r.columns == std::vector<double>{1.75, 0.75, 0.5});
    }
}

TEST_CASE("cuda head_stats: ties at the k-th largest entry (uniform map)") {
    // 64 x 64 entries of 1/64 (exact): k = ceil(0.05 * 4096) = 205 of them, all tied.
    const int S = 64;
    const std::vector<float> map(size_t(S) * S, 1.0f / 64);
    const Result r = run_gpu(map, 1, S, false, 0.01, false);
    CHECK(r.guards_ok);
    CHECK(r.stats[gpu::kStatTop5Mass] == doctest::Approx(205.0 / 4096.0).epsilon(1e-14));
    CHECK(r.stats[gpu::kStatEntropy] == doctest::Approx(std::log(64.0)).epsilon(1e-12));
    CHECK(r.stats[gpu::kStatNormalizedEntropy] == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(r.stats[gpu::kStatSparsity] == 0.0);
}

TEST_CASE("cuda head_stats: rejects bad shapes; H = 0 does nothing") {
    CHECK_THROWS_AS(gpu::head_stats(nullptr, nullptr, 1, 0, false, 0.01, nullptr, nullptr),
                    headmap::Error);
    CHECK_THROWS_AS(gpu::head_stats(nullptr, nullptr, -1, 4, false, 0.01, nullptr, nullptr),
                    headmap::Error);
    CHECK_NOTHROW(gpu::head_stats(nullptr, nullptr, 0, 4, false, 0.01, nullptr, nullptr));
}
