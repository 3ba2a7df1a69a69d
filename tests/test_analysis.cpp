// Attention statistics and rollout against values worked out by hand on small maps.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/analysis/analysis.h"
#include "headmap/error.hpp"

using namespace headmap;
using namespace headmap::analysis;

TEST_CASE("statistics of a 3x3 causal map, by hand") {
    // Row 0: [1]; row 1: [0.5, 0.5]; row 2: [0.2, 0.3, 0.5]. Upper entries hold junk that must
    // not count (a causal map would hold zeros; 9s make any leak obvious).
    const std::vector<float> map = {1.0f, 9, 9, 0.5f, 0.5f, 9, 0.2f, 0.3f, 0.5f};
    const HeadStats s = head_stats(map, 3, /*causal=*/true, 0.25);
    const double h1 = std::log(2.0);
    const double h2 = -(0.2 * std::log(0.2) + 0.3 * std::log(0.3) + 0.5 * std::log(0.5));
    CHECK(s.entropy == doctest::Approx((0 + h1 + h2) / 3));
    CHECK(s.normalized_entropy == doctest::Approx((h1 / std::log(2.0) + h2 / std::log(3.0)) / 2));
    CHECK(s.sparsity == doctest::Approx(1.0 / 6));  // only 0.2 of the 6 allowed entries < 0.25
    CHECK(s.max == doctest::Approx(1.0));
    CHECK(s.first == doctest::Approx((1.0 + 0.5 + 0.2) / 3));
    CHECK(s.previous == doctest::Approx((0.5 + 0.3) / 2));
    CHECK(s.self == doctest::Approx((1.0 + 0.5 + 0.5) / 3));
    CHECK(s.distance == doctest::Approx((0 + 0.5 + (0.2 * 2 + 0.3)) / 3));
    CHECK(s.local == doctest::Approx((1.0 + 1.0 + 0.8) / 3));
    CHECK(s.medium == doctest::Approx(0.2 / 3));
    CHECK(s.global == doctest::Approx(0.0));
    // 6 allowed entries: the top ceil(0.3) = 1 holds 1.0 of the total 3.0.
    CHECK(s.top5_mass == doctest::Approx(1.0 / 3));
    REQUIRE(s.column_sums.size() == 3);
    CHECK(s.column_sums[0] == doctest::Approx(1.7));
    CHECK(s.column_sums[1] == doctest::Approx(0.8));
    CHECK(s.column_sums[2] == doctest::Approx(0.5));
}

TEST_CASE("non-causal statistics count every entry; global mass at distance >= 4") {
    const int S = 5;
    std::vector<float> map(S * S, 0.0f);
    for (int i = 0; i < S; ++i) map[size_t(i) * S + (S - 1 - i)] = 1.0f;  // anti-diagonal
    const HeadStats s = head_stats(map, S, /*causal=*/false);
    CHECK(s.entropy == doctest::Approx(0.0));
    CHECK(s.global == doctest::Approx(2.0 / 5));  // rows 0 and 4 attend 4 away
    CHECK(s.medium == doctest::Approx(2.0 / 5));  // rows 1 and 3 attend 2 away
    CHECK(s.local == doctest::Approx(1.0 / 5));   // row 2 attends itself
    CHECK(s.self == doctest::Approx(1.0 / 5));
    CHECK(s.distance == doctest::Approx((4 + 2 + 0 + 2 + 4) / 5.0));
    CHECK(s.sparsity == doctest::Approx(20.0 / 25));
    CHECK(metric(s, "global") == doctest::Approx(0.4));
    CHECK_THROWS_AS(metric(s, "nonsense"), Error);
    CHECK_THROWS_AS(head_stats(map, 4, false), Error);
}

TEST_CASE("rollout of one layer, one head, worked by hand") {
    // A = [[1, 0], [0.4, 0.6]]; A' = rownorm(0.5 A + 0.5 I) = [[1, 0], [0.2, 0.8]].
    const std::vector<float> a = {1.0f, 0.0f, 0.4f, 0.6f};
    const std::vector<float> r1 = rollout(a, 1, 1, 2, HeadFusion::Mean, 0.0);
    CHECK(r1[0] == doctest::Approx(1.0));
    CHECK(r1[1] == doctest::Approx(0.0));
    CHECK(r1[2] == doctest::Approx(0.2));
    CHECK(r1[3] == doctest::Approx(0.8));
    // Two layers of the same map: R = A'A' = [[1, 0], [0.2 + 0.16, 0.64]].
    std::vector<float> two = a;
    two.insert(two.end(), a.begin(), a.end());
    const std::vector<float> r2 = rollout(two, 2, 1, 2, HeadFusion::Mean, 0.0);
    CHECK(r2[2] == doctest::Approx(0.36));
    CHECK(r2[3] == doctest::Approx(0.64));
}

TEST_CASE("rollout fuses heads by mean, max or min, and discards the weakest entries") {
    // Two heads: [[1,0],[1,0]] and [[1,0],[0,1]].
    const std::vector<float> maps = {1, 0, 1, 0, 1, 0, 0, 1};
    const auto mean = rollout(maps, 1, 2, 2, HeadFusion::Mean, 0.0);  // fused [[1,0],[.5,.5]]
    CHECK(mean[2] == doctest::Approx(0.25));
    CHECK(mean[3] == doctest::Approx(0.75));
    const auto max = rollout(maps, 1, 2, 2, HeadFusion::Max, 0.0);  // fused [[1,0],[1,1]]
    CHECK(max[2] == doctest::Approx(0.5 / 1.5));
    const auto min = rollout(maps, 1, 2, 2, HeadFusion::Min, 0.0);  // fused [[1,0],[0,0]]
    CHECK(min[2] == doctest::Approx(0.0));
    CHECK(min[3] == doctest::Approx(1.0));
    // Discarding half of [[1,0],[.8,.2]] zeroes its two smallest entries, (0,1) and (1,1):
    // fused [[1,0],[.8,0]] -> A' row 1 = [.4, .5] / .9.
    const std::vector<float> one = {1.0f, 0.0f, 0.8f, 0.2f};
    const auto dropped = rollout(one, 1, 1, 2, HeadFusion::Mean, 0.5);
    CHECK(dropped[2] == doctest::Approx(0.4 / 0.9));
    CHECK(dropped[3] == doctest::Approx(0.5 / 0.9));
    // (0, 0) is never discarded, even when it is among the smallest.
    const std::vector<float> low_first = {0.1f, 0.9f, 0.5f, 0.5f};
    const auto kept = rollout(low_first, 1, 1, 2, HeadFusion::Mean, 0.25);
    CHECK(kept[0] == doctest::Approx(0.55));  // row 0 unchanged: [.05+.5, .45]
    CHECK_THROWS_AS(rollout(maps, 1, 2, 3, HeadFusion::Mean, 0.0), Error);
    CHECK_THROWS_AS(rollout(maps, 1, 2, 2, HeadFusion::Mean, 1.0), Error);
}
