// engine/analysis/heads.h: robust scaling, Ward linkage and its cut, medoids, ranking and the 2-D PCA, on
// hand-worked cases and against numpy/scipy/scikit-learn (tests/data/heads/reference.json, made
// by tools/reference/make_heads_fixtures.py).
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "engine/analysis/heads.h"
#include "headmap/error.hpp"
#include "test_support.h"

using namespace headmap;
using namespace headmap::analysis;

namespace {

std::vector<double> as_doubles(const nlohmann::json& j) {
    return j.get<std::vector<double>>();
}

// Same partition up to the names of the clusters: a one-to-one label correspondence.
bool same_partition(const std::vector<int>& a, const std::vector<int>& b) {
    if (a.size() != b.size()) return false;
    std::map<int, int> a_to_b, b_to_a;
    for (size_t i = 0; i < a.size(); ++i) {
        auto [ab, new_ab] = a_to_b.emplace(a[i], b[i]);
        auto [ba, new_ba] = b_to_a.emplace(b[i], a[i]);
        if (ab->second != b[i] || ba->second != a[i]) return false;
    }
    return true;
}

double relative_error(double got, double want) {
    return std::fabs(got - want) / std::max(1.0, std::fabs(want));
}

std::vector<double> random_matrix(int n, int d, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> x(size_t(n) * size_t(d));
    for (double& v : x) v = normal(rng);
    return x;
}

}  // namespace

TEST_CASE("percentile is numpy's linear interpolation") {
    const std::vector<double> v = {1, 2, 3, 4};
    CHECK(percentile(v, 0) == 1);
    CHECK(percentile(v, 25) == doctest::Approx(1.75).epsilon(1e-15));
    CHECK(percentile(v, 50) == doctest::Approx(2.5).epsilon(1e-15));
    CHECK(percentile(v, 75) == doctest::Approx(3.25).epsilon(1e-15));
    CHECK(percentile(v, 100) == 4);
    CHECK(percentile(std::vector<double>{7}, 75) == 7);
    CHECK_THROWS_AS(percentile(std::vector<double>{}, 50), Error);
    CHECK_THROWS_AS(percentile(v, 101), Error);
}

TEST_CASE("robust scaling: (x - median) / IQR per column; an IQR of 0 only centres") {
    // Columns: [1, 2, 3, 4, 100] (median 3, IQR 4 - 2), constant 5, and [0, 0, 0, 0, 7]
    // (IQR 0 although not constant).
    const std::vector<double> x = {1, 5, 0, 2, 5, 0, 3, 5, 0, 4, 5, 0, 100, 5, 7};
    const std::vector<double> scaled = robust_scale(x, 5, 3);
    const std::vector<double> want = {-1, 0, 0, -0.5, 0, 0, 0, 0, 0, 0.5, 0, 0, 48.5, 0, 7};
    REQUIRE(scaled.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) CHECK(scaled[i] == doctest::Approx(want[i]));
    CHECK_THROWS_AS(robust_scale(x, 5, 2), Error);  // 15 values are not 5 x 2
    std::vector<double> bad = x;
    bad[4] = NAN;
    CHECK_THROWS_WITH_AS(robust_scale(bad, 5, 3), doctest::Contains("(1, 1)"), Error);
}

TEST_CASE("Ward linkage by hand: 0, 1, 5, 6 on a line") {
    const std::vector<double> x = {0, 1, 5, 6};
    const std::vector<Merge> z = ward_linkage(x, 4, 1);
    REQUIRE(z.size() == 3);
    // Two pairs at distance 1 (found in chain order, kept by the stable sort), then the pairs
    // join at sqrt(2 * 2 * 2 / 4) * |0.5 - 5.5| = sqrt(50).
    CHECK(z[0].a == 0);
    CHECK(z[0].b == 1);
    CHECK(z[0].height == doctest::Approx(1.0).epsilon(1e-15));
    CHECK(z[0].size == 2);
    CHECK(z[1].a == 2);
    CHECK(z[1].b == 3);
    CHECK(z[1].height == doctest::Approx(1.0).epsilon(1e-15));
    CHECK(z[2].a == 4);
    CHECK(z[2].b == 5);
    CHECK(z[2].height == doctest::Approx(std::sqrt(50.0)).epsilon(1e-14));
    CHECK(z[2].size == 4);

    // Cuts give exactly k clusters, numbered by their lowest member, even across the tie.
    CHECK(cut_clusters(z, 4, 1) == std::vector<int>{0, 0, 0, 0});
    CHECK(cut_clusters(z, 4, 2) == std::vector<int>{0, 0, 1, 1});
    CHECK(cut_clusters(z, 4, 3) == std::vector<int>{0, 0, 1, 2});
    CHECK(cut_clusters(z, 4, 4) == std::vector<int>{0, 1, 2, 3});
    CHECK_THROWS_AS(cut_clusters(z, 4, 0), Error);
    CHECK_THROWS_AS(cut_clusters(z, 4, 5), Error);
    CHECK_THROWS_AS(cut_clusters(z, 5, 2), Error);  // 3 merges are not a linkage of 5 points

    const std::vector<Merge> one = ward_linkage(std::vector<double>{3, 4}, 1, 2);
    CHECK(one.empty());
    CHECK(cut_clusters(one, 1, 1) == std::vector<int>{0});
    CHECK_THROWS_AS(ward_linkage(std::vector<double>{0, NAN}, 2, 1), Error);
}

TEST_CASE("Ward heights are the Ward distances of the clusters they join") {
    // Ward's merge cost between clusters A and B: sqrt(2 |A| |B| / (|A| + |B|)) ||c_A - c_B||.
    const int n = 30, d = 4;
    const std::vector<double> x = random_matrix(n, d, 11);
    const std::vector<Merge> z = ward_linkage(x, n, d);
    REQUIRE(z.size() == size_t(n - 1));
    std::vector<std::vector<double>> centroid;
    std::vector<int> size;
    for (int i = 0; i < n; ++i) {
        centroid.emplace_back(x.begin() + i * d, x.begin() + (i + 1) * d);
        size.push_back(1);
    }
    for (size_t m = 0; m < z.size(); ++m) {
        CAPTURE(m);
        const Merge& merge = z[m];
        REQUIRE(merge.a < merge.b);
        REQUIRE(merge.b < n + int(m));
        if (m > 0) CHECK(merge.height >= z[m - 1].height);
        const auto& ca = centroid[size_t(merge.a)];
        const auto& cb = centroid[size_t(merge.b)];
        const double na = size[size_t(merge.a)], nb = size[size_t(merge.b)];
        double dist2 = 0;
        std::vector<double> joined(static_cast<size_t>(d));
        for (int j = 0; j < d; ++j) {
            dist2 += (ca[size_t(j)] - cb[size_t(j)]) * (ca[size_t(j)] - cb[size_t(j)]);
            joined[size_t(j)] = (na * ca[size_t(j)] + nb * cb[size_t(j)]) / (na + nb);
        }
        CHECK(relative_error(merge.height, std::sqrt(2 * na * nb / (na + nb) * dist2)) < 1e-12);
        CHECK(merge.size == int(na + nb));
        centroid.push_back(joined);
        size.push_back(int(na + nb));
    }
}

TEST_CASE("medoids minimise the summed distance; ties go to the lowest index") {
    // Cluster 0 = points {0, 1, 2, 10} on a line: sums 13, 11, 11, 27 -> index of 1 (tie with 2).
    // Cluster 1 = {20, 21, 23}: sums 4, 3, 5 -> 21.
    const std::vector<double> x = {20, 0, 21, 1, 2, 23, 10};
    const std::vector<int> labels = {1, 0, 1, 0, 0, 1, 0};
    CHECK(cluster_medoids(x, 7, 1, labels, 2) == std::vector<int>{3, 2});
    CHECK_THROWS_AS(cluster_medoids(x, 7, 1, labels, 3), Error);  // cluster 2 is empty
    CHECK_THROWS_AS(cluster_medoids(x, 7, 1, std::vector<int>{0, 1}, 2), Error);
}

TEST_CASE("ranking: descending or ascending, ties by index, non-finite last") {
    const std::vector<double> v = {0.5, 0.9, 0.5, NAN, 0.1};
    CHECK(rank_by(v, false) == std::vector<int>{1, 0, 2, 4, 3});
    CHECK(rank_by(v, true) == std::vector<int>{4, 0, 2, 1, 3});
    CHECK(rank_by(std::vector<double>{}, false).empty());
}

TEST_CASE("Jacobi eigen-decomposition: hand case and random symmetric matrices") {
    const Eigen two = symmetric_eigen(std::vector<double>{2, 1, 1, 2}, 2);
    CHECK(two.values[0] == doctest::Approx(3.0).epsilon(1e-14));
    CHECK(two.values[1] == doctest::Approx(1.0).epsilon(1e-14));
    const double h = std::sqrt(0.5);
    CHECK(two.vectors[0] == doctest::Approx(h).epsilon(1e-14));
    CHECK(two.vectors[1] == doctest::Approx(h).epsilon(1e-14));
    // [1, -1] / sqrt 2: both entries equally large; the first is made positive.
    CHECK(two.vectors[2] == doctest::Approx(h).epsilon(1e-14));
    CHECK(two.vectors[3] == doctest::Approx(-h).epsilon(1e-14));

    for (int d : {1, 3, 12}) {
        CAPTURE(d);
        const std::vector<double> r = random_matrix(d, d, uint32_t(d));
        std::vector<double> a(size_t(d * d));
        for (int i = 0; i < d; ++i)
            for (int j = 0; j < d; ++j)
                a[size_t(i * d + j)] = r[size_t(i * d + j)] + r[size_t(j * d + i)];
        const Eigen e = symmetric_eigen(a, d);
        for (int k = 0; k < d; ++k) {
            if (k > 0) CHECK(e.values[size_t(k)] <= e.values[size_t(k - 1)]);
            const double* v = &e.vectors[size_t(k * d)];
            int largest = 0;
            for (int i = 0; i < d; ++i) {
                double av = 0;
                for (int j = 0; j < d; ++j) av += a[size_t(i * d + j)] * v[j];
                CHECK(std::fabs(av - e.values[size_t(k)] * v[i]) < 1e-12);
                if (std::fabs(v[i]) > std::fabs(v[largest])) largest = i;
            }
            CHECK(v[largest] > 0);
            for (int m = 0; m < d; ++m) {
                double dot = 0;
                for (int i = 0; i < d; ++i) dot += v[i] * e.vectors[size_t(m * d + i)];
                CHECK(std::fabs(dot - (m == k ? 1.0 : 0.0)) < 1e-12);
            }
        }
    }
    CHECK_THROWS_AS(symmetric_eigen(std::vector<double>{1, 2, 3}, 2), Error);
}

TEST_CASE("PCA by hand: points on the line y = 2x") {
    const std::vector<double> x = {-1, -2, 0, 0, 1, 2};
    const Pca2 p = pca2(x, 3, 2);
    const double s5 = std::sqrt(5.0);
    CHECK(p.components[0] == doctest::Approx(1 / s5).epsilon(1e-14));
    CHECK(p.components[1] == doctest::Approx(2 / s5).epsilon(1e-14));
    CHECK(p.scores[0] == doctest::Approx(-s5).epsilon(1e-14));
    CHECK(std::fabs(p.scores[2]) < 1e-14);
    CHECK(p.scores[4] == doctest::Approx(s5).epsilon(1e-14));
    for (int i = 0; i < 3; ++i) CHECK(std::fabs(p.scores[size_t(2 * i + 1)]) < 1e-14);
    CHECK(p.explained[0] == doctest::Approx(1.0).epsilon(1e-14));
    CHECK(std::fabs(p.explained[1]) < 1e-14);

    const Pca2 one = pca2(std::vector<double>{1, 3, 5}, 3, 1);  // d = 1: one real component
    CHECK(one.components == std::vector<double>{1, 0});
    CHECK(one.scores == std::vector<double>{-2, 0, 0, 0, 2, 0});
    CHECK(one.explained[0] == 1.0);
    CHECK(one.explained[1] == 0.0);
    const Pca2 flat = pca2(std::vector<double>{4, 4, 4, 4}, 2, 2);  // no variance at all
    CHECK(flat.explained[0] == 0.0);
    CHECK(flat.scores == std::vector<double>{0, 0, 0, 0});
    CHECK_THROWS_AS(pca2(std::vector<double>{1, INFINITY}, 1, 2), Error);
}

TEST_CASE("against numpy, scipy and scikit-learn (tests/data/heads/reference.json)") {
    const nlohmann::json ref = nlohmann::json::parse(
        test_support::read_file(test_support::kTestData / "heads" / "reference.json"));
    REQUIRE(ref["cases"].size() == 3);
    for (const nlohmann::json& c : ref["cases"]) {
        const std::string name = c["name"];
        CAPTURE(name);
        const int n = c["n"], d = c["d"];
        const std::vector<double> x = as_doubles(c["x"]), want_scaled = as_doubles(c["scaled"]);

        const std::vector<double> scaled = robust_scale(x, n, d);
        REQUIRE(scaled.size() == want_scaled.size());
        double worst = 0;
        for (size_t i = 0; i < scaled.size(); ++i)
            worst = std::max(worst, relative_error(scaled[i], want_scaled[i]));
        CHECK(worst < 1e-12);

        // Linkage on scipy's input, so the comparison is of the clustering alone.
        const std::vector<Merge> z = ward_linkage(want_scaled, n, d);
        REQUIRE(z.size() == c["linkage"].size());
        double worst_height = 0;
        int wrong_rows = 0;
        for (size_t m = 0; m < z.size(); ++m) {
            const nlohmann::json& row = c["linkage"][m];
            wrong_rows += z[m].a != row[0].get<int>() || z[m].b != row[1].get<int>() ||
                          z[m].size != row[3].get<int>();
            worst_height = std::max(worst_height, std::fabs(z[m].height - row[2].get<double>()) /
                                                      std::fabs(row[2].get<double>()));
        }
        CHECK(wrong_rows == 0);
        CHECK(worst_height < 1e-9);

        REQUIRE(c["clusters"].size() >= 6);
        for (const auto& [k_text, labels] : c["clusters"].items()) {
            const int k = std::stoi(k_text);
            CAPTURE(k);
            const std::vector<int> got = cut_clusters(z, n, k);
            CHECK(same_partition(got, labels.get<std::vector<int>>()));
            CHECK(*std::max_element(got.begin(), got.end()) == k - 1);
            CHECK(got[0] == 0);
            CHECK(cluster_medoids(want_scaled, n, d, got, k) ==
                  c["medoids"][k_text].get<std::vector<int>>());
        }

        const Pca2 p = pca2(want_scaled, n, d);
        const std::vector<double> scores = as_doubles(c["pca_scores"]);
        const std::vector<double> components = as_doubles(c["pca_components"]);
        double worst_score = 0, worst_component = 0;
        for (size_t i = 0; i < scores.size(); ++i)
            worst_score = std::max(worst_score, relative_error(p.scores[i], scores[i]));
        for (size_t i = 0; i < components.size(); ++i)
            worst_component = std::max(worst_component, std::fabs(p.components[i] - components[i]));
        CHECK(worst_score < 1e-9);
        CHECK(worst_component < 1e-9);
        CHECK(relative_error(p.explained[0], c["pca_explained"][0].get<double>()) < 1e-9);
        CHECK(relative_error(p.explained[1], c["pca_explained"][1].get<double>()) < 1e-9);
    }
}
