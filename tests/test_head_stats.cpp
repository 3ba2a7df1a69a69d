// The fast statistics path (engine/analysis/head_stats.cpp) against the reference definition on
// random maps of several sizes, causal and not, with zeros, ties and junk above the diagonal; the
// fast logarithm against std::log; the radix select against a sort; threads against one thread.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/analysis/analysis.h"
#include "engine/analysis/head_stats_internal.h"
#include "headmap/error.hpp"
#include "kernel_test_support.h"
#include "kernels/cpu/fast_log.h"

using namespace headmap;
using namespace headmap::analysis;

namespace {

double relative_error(double got, double exact) {
    return exact == 0 ? std::fabs(got) : std::fabs(got - exact) / std::fabs(exact);
}

// The kinds of maps the statistics meet: softmax rows at several temperatures, rows with many
// exact zeros, rows of few distinct values (ties at the top-5% boundary), uniform rows, one-hot
// rows, and rows of tiny values (denormals among them).
enum class MapKind { Softmax, Peaked, Zeros, Ties, Uniform, OneHot, Tiny };
const MapKind kKinds[] = {MapKind::Softmax, MapKind::Peaked, MapKind::Zeros, MapKind::Ties,
                          MapKind::Uniform, MapKind::OneHot, MapKind::Tiny};

const char* kind_name(MapKind kind) {
    switch (kind) {
        case MapKind::Softmax:
            return "softmax";
        case MapKind::Peaked:
            return "peaked";
        case MapKind::Zeros:
            return "zeros";
        case MapKind::Ties:
            return "ties";
        case MapKind::Uniform:
            return "uniform";
        case MapKind::OneHot:
            return "one-hot";
        case MapKind::Tiny:
            return "tiny";
    }
    return "?";
}

// (S, S) rows summing to 1 over the allowed keys; with `causal`, the entries above the diagonal
// hold 7.0 (junk no statistic may read).
std::vector<float> make_map(int S, bool causal, MapKind kind, std::mt19937& rng) {
    std::vector<float> map(size_t(S) * size_t(S), causal ? 7.0f : 0.0f);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<double> row(static_cast<size_t>(S));
    for (int i = 0; i < S; ++i) {
        const int keys = causal ? i + 1 : S;
        const int hot = int(rng() % uint32_t(keys));
        for (int j = 0; j < keys; ++j) {
            double v = 0;
            switch (kind) {
                case MapKind::Softmax:
                    v = std::exp(1.5 * normal(rng));
                    break;
                case MapKind::Peaked:
                    v = std::exp(6.0 * normal(rng));
                    break;
                case MapKind::Zeros:
                    v = uniform(rng) < 0.7 ? 0.0 : std::exp(normal(rng));
                    break;
                case MapKind::Ties:
                    v = double(rng() % 4);
                    break;
                case MapKind::Uniform:
                    v = 1.0;
                    break;
                case MapKind::OneHot:
                    v = j == hot ? 1.0 : 0.0;
                    break;
                case MapKind::Tiny:
                    v = std::exp(-60.0 * uniform(rng));
                    break;
            }
            row[size_t(j)] = v;
        }
        double sum = 0;
        for (int j = 0; j < keys; ++j) sum += row[size_t(j)];
        if (sum == 0) row[size_t(i)] = sum = 1.0;  // a row of zeros attends to itself
        for (int j = 0; j < keys; ++j)
            map[size_t(i) * size_t(S) + size_t(j)] = float(row[size_t(j)] / sum);
        if (kind == MapKind::Tiny && keys > 1) map[size_t(i) * size_t(S)] = 1e-40f;  // denormal
    }
    return map;
}

// The largest difference per metric (and over column sums) seen across all compared maps.
struct Worst {
    std::vector<double> metric = std::vector<double>(metric_names().size(), 0.0);
    double columns = 0;

    void compare(const HeadStats& fast, const HeadStats& ref) {
        const auto& names = metric_names();
        for (size_t m = 0; m < names.size(); ++m) {
            const double d =
                std::fabs(analysis::metric(fast, names[m]) - analysis::metric(ref, names[m]));
            metric[m] = std::isnan(d) ? INFINITY : std::max(metric[m], d);
        }
        REQUIRE(fast.column_sums.size() == ref.column_sums.size());
        for (size_t j = 0; j < ref.column_sums.size(); ++j)
            columns = std::max(columns, std::fabs(fast.column_sums[j] - ref.column_sums[j]));
    }
};

}  // namespace

TEST_CASE("log_fast is within 2.5e-7 relative of std::log; log_parts within 1e-7 absolute") {
    std::vector<float> values;
    for (int e = -126; e <= 127; ++e) values.push_back(std::ldexp(1.0f, e));
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> exponent(-37.0 * std::log(10.0), 38.0 * std::log(10.0));
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    for (int n = 0; n < 200000; ++n) values.push_back(float(std::exp(exponent(rng))));
    for (int n = 0; n < 200000; ++n) values.push_back(std::max(unit(rng), 1e-30f));
    float up = 1.0f, down = 1.0f;  // the neighbourhood of 1, where ln is near 0
    for (int n = 0; n < 2000; ++n) {
        values.push_back(up = std::nextafter(up, 2.0f));
        values.push_back(down = std::nextafter(down, 0.0f));
    }
    std::vector<float> logs(values.size());
    cpu::fast_log::log_array(values.data(), logs.data(),
                             int(values.size()));  // the vectorised loop
    double worst_relative = 0, worst_array = 0, worst_parts = 0;
    for (size_t n = 0; n < values.size(); ++n) {
        const double exact = std::log(double(values[n]));
        worst_relative =
            std::max(worst_relative, relative_error(cpu::fast_log::log_fast(values[n]), exact));
        worst_array = std::max(worst_array, relative_error(logs[n], exact));
        int32_t e = 0;
        const float p = cpu::fast_log::log_parts(values[n], e);
        worst_parts =
            std::max(worst_parts, std::fabs(double(e) * cpu::fast_log::kLn2 + double(p) - exact));
    }
    MESSAGE("log_fast worst relative error ", worst_relative, ", log_parts worst absolute ",
            worst_parts);
    CHECK(worst_relative <= 2.5e-7);
    CHECK(worst_array <= 2.5e-7);
    CHECK(worst_parts <= 1e-7);
    CHECK(cpu::fast_log::log_fast(1.0f) == 0.0f);
    // 0, denormals and negatives are clamped to the smallest normal float.
    const float floor_log = cpu::fast_log::log_fast(cpu::fast_log::kSmallestNormal);
    CHECK(floor_log ==
          doctest::Approx(std::log(double(cpu::fast_log::kSmallestNormal))).epsilon(1e-7));
    CHECK(cpu::fast_log::log_fast(0.0f) == floor_log);
    CHECK(cpu::fast_log::log_fast(1e-42f) == floor_log);
    CHECK(cpu::fast_log::log_fast(-3.0f) == floor_log);
}

TEST_CASE("sum_of_largest equals the sum of the k largest after a sort, ties and signs included") {
    std::mt19937 rng(11);
    for (size_t n : {size_t(1), size_t(2), size_t(7), size_t(100), size_t(5000)}) {
        for (int pattern = 0; pattern < 4; ++pattern) {
            std::vector<float> values(n);
            for (float& v : values) {
                const uint32_t r = rng();
                switch (pattern) {
                    case 0:
                        v = float(r % 5) / 8.0f;
                        break;  // heavy ties
                    case 1:
                        v = float(int(r % 9) - 4) * 0.25f;
                        break;  // negatives
                    case 2:
                        v = (r & 1) ? 0.0f : -0.0f;
                        break;  // signed zeros only
                    default:
                        v = std::ldexp(float(r % 1000 + 1), int(r % 20) - 10);
                        break;
                }
            }
            std::vector<float> sorted = values;
            std::sort(sorted.begin(), sorted.end(), std::greater<float>());
            for (size_t k : {size_t(1), (n + 1) / 2, n, size_t(rng() % n) + 1}) {
                double expected = 0;  // dyadic values: every sum here is exact in double
                for (size_t i = 0; i < k; ++i) expected += sorted[i];
                std::vector<float> work = values;
                INFO("n ", n, " pattern ", pattern, " k ", k);
                CHECK(detail::sum_of_largest(work.data(), n, k) == expected);
            }
        }
    }
    std::vector<float> three = {1, 2, 3};
    CHECK_THROWS_AS(detail::sum_of_largest(three.data(), 3, 0), Error);
    CHECK_THROWS_AS(detail::sum_of_largest(three.data(), 3, 4), Error);
}

TEST_CASE("fast statistics match the reference within 1e-6 on every metric") {
    // On every kernel table this CPU runs (kernels/cpu/isa.h).
    CHECK(kernel_test::for_each_kernel_table([&](const cpu::KernelTable&) {
              std::mt19937 rng(2024);
              Worst worst;
              double worst_top5 = 0;
              int maps = 0;
              // Up to 127 the top 5% is selected among all entries; from 300 (non-causal) and 400
              // (causal) a sampled floor cuts the candidates first.
              for (int S : {1, 2, 3, 5, 8, 9, 17, 64, 127, 300, 400}) {
                  for (bool causal : {false, true}) {
                      for (MapKind kind : kKinds) {
                          if (S >= 300 && kind != MapKind::Softmax && kind != MapKind::Zeros &&
                              kind != MapKind::Ties && kind != MapKind::Peaked)
                              continue;
                          const std::vector<float> map = make_map(S, causal, kind, rng);
                          for (double threshold : {0.01, 0.25}) {
                              const HeadStats fast = head_stats(map, S, causal, threshold);
                              const HeadStats ref = head_stats_reference(map, S, causal, threshold);
                              INFO("S ", S, " causal ", causal, " ", kind_name(kind), " threshold ",
                                   threshold);
                              worst.compare(fast, ref);
                              CHECK(fast.max == ref.max);            // a float, not a sum
                              CHECK(fast.sparsity == ref.sparsity);  // a count
                              worst_top5 =
                                  std::max(worst_top5, std::fabs(fast.top5_mass - ref.top5_mass));
                              CHECK(fast.top5_mass ==
                                    doctest::Approx(ref.top5_mass).epsilon(1e-12));
                              ++maps;
                          }
                      }
                  }
              }
              // One full-size map each way (the size bench-analysis times).
              for (bool causal : {false, true}) {
                  const std::vector<float> map = make_map(1024, causal, MapKind::Softmax, rng);
                  worst.compare(head_stats(map, 1024, causal),
                                head_stats_reference(map, 1024, causal));
                  ++maps;
              }
              const auto& names = metric_names();
              std::string report;
              for (size_t m = 0; m < names.size(); ++m) {
                  char cell[64];
                  std::snprintf(cell, sizeof cell, " %.1e; ", worst.metric[m]);
                  report += names[m];
                  report += cell;
                  INFO("metric ", names[m]);
                  CHECK(worst.metric[m] <= 1e-6);
              }
              MESSAGE(maps, " maps; worst |fast - reference|: ", report, "column sums ",
                      worst.columns, "; top5_mass ", worst_top5);
              CHECK(worst.columns <= 1e-9);
          }) >= 1);
}

TEST_CASE("a candidate floor that misses falls back to every entry; the same top-5% mass") {
    std::mt19937 rng(5);
    for (bool causal : {false, true}) {
        const int S = 120;
        const std::vector<float> map = make_map(S, causal, MapKind::Softmax, rng);
        const HeadStats ref = head_stats_reference(map, S, causal);
        std::vector<float> sorted;
        for (int i = 0; i < S; ++i)
            for (int j = 0; j <= (causal ? i : S - 1); ++j)
                sorted.push_back(map[size_t(i) * S + size_t(j)]);
        std::sort(sorted.begin(), sorted.end(), std::greater<float>());
        const float kth = sorted[size_t(std::ceil(0.05 * double(sorted.size()))) - 1];
        // Above every entry and just above the k-th largest (both miss: the fallback pass), at
        // the k-th (ties at the boundary), below it, and no floor at all.
        for (float floor : {2.0f, std::nextafter(kth, 1.0f), kth, kth / 2,
                            -std::numeric_limits<float>::infinity()}) {
            const HeadStats forced = detail::head_stats_with_floor(map, S, causal, 0.01, floor);
            INFO("causal ", causal, " floor ", floor, " k-th largest ", kth);
            CHECK(forced.top5_mass == doctest::Approx(ref.top5_mass).epsilon(1e-12));
            CHECK(forced.entropy == doctest::Approx(ref.entropy).epsilon(1e-9));
        }
    }
}

TEST_CASE("all_head_stats: the same numbers for 1, 2 and 3 threads and as head_stats per map") {
    std::mt19937 rng(9);
    const int S = 40, n_maps = 7;
    std::vector<float> maps;
    for (int m = 0; m < n_maps; ++m) {
        const std::vector<float> map = make_map(S, true, kKinds[size_t(m) % 7], rng);
        maps.insert(maps.end(), map.begin(), map.end());
    }
    const std::vector<HeadStats> one = all_head_stats(maps, n_maps, S, true, 0.01, 1);
    REQUIRE(one.size() == size_t(n_maps));
    for (int threads : {2, 3, 0}) {
        const std::vector<HeadStats> many = all_head_stats(maps, n_maps, S, true, 0.01, threads);
        REQUIRE(many.size() == one.size());
        for (size_t m = 0; m < one.size(); ++m)
            for (const std::string& name : metric_names()) {
                INFO("threads ", threads, " map ", m, " ", name);
                CHECK(analysis::metric(many[m], name) == analysis::metric(one[m], name));
            }
    }
    const size_t per_map = size_t(S) * S;
    for (size_t m = 0; m < one.size(); ++m) {
        const HeadStats single =
            head_stats(std::span<const float>(maps).subspan(m * per_map, per_map), S, true);
        CHECK(single.entropy == one[m].entropy);
        CHECK(single.top5_mass == one[m].top5_mass);
        CHECK(single.column_sums == one[m].column_sums);
    }
    const std::vector<HeadStats> no_columns = all_head_stats(maps, n_maps, S, true, 0.01, 2, false);
    CHECK(no_columns[3].column_sums.empty());
    CHECK(no_columns[3].distance == one[3].distance);
    CHECK(all_head_stats(std::span<const float>(), 0, S, true, 0.01, 2).empty());
    CHECK_THROWS_AS(all_head_stats(maps, n_maps + 1, S, true, 0.01, 2), Error);
    CHECK_THROWS_AS(all_head_stats(maps, n_maps, 0, true, 0.01, 2), Error);
    CHECK_THROWS_AS(head_stats(std::span<const float>(maps).first(10), S, true), Error);
}
