// Modularity and Louvain: Q by hand, cliques, brute force over every partition of tiny graphs,
// Q recomputed on the original graph, the token graph of attention maps, and networkx's values
// (tests/data/modularity, made by tools/reference/make_modularity_fixtures.py).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "engine/analysis/modularity.h"
#include "headmap/error.hpp"
#include "test_support.h"

using namespace headmap;
using namespace headmap::analysis;

namespace {

// An n x n graph from undirected edges (u, v, w); u == v is a self-loop of weight w.
struct Edge {
    int u, v;
    double w;
};
std::vector<double> graph_of(int n, std::initializer_list<Edge> edges) {
    std::vector<double> g(size_t(n) * size_t(n), 0.0);
    for (const Edge& e : edges) {
        g[size_t(e.u) * size_t(n) + size_t(e.v)] += e.w;
        if (e.u != e.v) g[size_t(e.v) * size_t(n) + size_t(e.u)] += e.w;
    }
    return g;
}

// Every set partition of n nodes as restricted growth strings (label[i] <= max(label[<i]) + 1);
// calls visit(labels).
template <class Visit>
void for_each_partition(int n, Visit&& visit) {
    std::vector<int> labels(size_t(n), 0), highest(size_t(n), 0);  // highest[i]: max label < i
    for (;;) {
        visit(std::span<const int>(labels));
        int i = n - 1;
        while (i > 0 && labels[size_t(i)] > highest[size_t(i)]) --i;
        if (i == 0) return;
        ++labels[size_t(i)];
        for (int j = i + 1; j < n; ++j) {
            highest[size_t(j)] = std::max(highest[size_t(j - 1)], labels[size_t(j - 1)]);
            labels[size_t(j)] = 0;
        }
    }
}

double best_modularity(const std::vector<double>& g, int n) {
    double best = -std::numeric_limits<double>::infinity();
    for_each_partition(n,
                       [&](std::span<const int> p) { best = std::max(best, modularity(g, n, p)); });
    return best;
}

// A symmetric random graph: within-block weights in [inside_lo, 1], between-block weights in
// [0, between], self-loops in [0, self_max]; block of node i = block[i].
std::vector<double> random_graph(std::mt19937& rng, const std::vector<int>& block, double inside_lo,
                                 double between, double self_max) {
    const size_t n = block.size();
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<double> g(n * n, 0.0);
    for (size_t i = 0; i < n; ++i) {
        g[i * n + i] = self_max * u(rng);
        for (size_t j = 0; j < i; ++j) {
            const double w =
                block[i] == block[j] ? inside_lo + (1.0 - inside_lo) * u(rng) : between * u(rng);
            g[i * n + j] = g[j * n + i] = w;
        }
    }
    return g;
}

// Labels numbered 0.. by first node, as louvain() promises; returns the count.
int check_numbered_by_first_node(std::span<const int> labels) {
    int next = 0;
    for (int c : labels) {
        CHECK(c >= 0);
        CHECK(c <= next);
        if (c == next) ++next;
    }
    return next;
}

}  // namespace

TEST_CASE("Q by hand: two triangles joined by an edge") {
    // Edges 0-1, 0-2, 1-2, 3-4, 3-5, 4-5 and the bridge 2-3, weight 1: m = 7, degrees
    // 2, 2, 3, 3, 2, 2. Triangles as communities: L = 3 each, d = 7 each:
    // Q = 2 (3/7 - (7/14)^2) = 6/7 - 1/2 = 5/14 = 0.357142857...
    const auto g =
        graph_of(6, {{0, 1, 1}, {0, 2, 1}, {1, 2, 1}, {3, 4, 1}, {3, 5, 1}, {4, 5, 1}, {2, 3, 1}});
    const std::vector<int> triangles = {0, 0, 0, 1, 1, 1};
    CHECK(modularity(g, 6, triangles) == doctest::Approx(5.0 / 14).epsilon(1e-14));
    // All in one community: Q = 7/7 - 1 = 0, for any graph.
    CHECK(std::fabs(modularity(g, 6, std::vector<int>(6, 0))) < 1e-15);
    // Singletons (no self-loops): Q = -sum (k_i / 2m)^2 = -(4 * 4 + 2 * 9) / 196 = -34/196.
    CHECK(modularity(g, 6, std::vector<int>{0, 1, 2, 3, 4, 5}) ==
          doctest::Approx(-34.0 / 196).epsilon(1e-14));
    // Louvain finds the triangles.
    const Communities found = louvain(g, 6);
    CHECK(found.community == triangles);
    CHECK(found.count == 2);
    CHECK(found.modularity == doctest::Approx(5.0 / 14).epsilon(1e-14));
}

TEST_CASE("Q by hand: a self-loop counts twice in the degree, once inside (networkx)") {
    // W01 = 2, W12 = 1, self-loop W00 = 1. Degrees: k0 = 2 + 2 * 1 = 4, k1 = 3, k2 = 1; 2m = 8.
    // {0, 1}, {2}: L = 2 + 1 = 3, d = 7; L = 0, d = 1: Q = 3/4 - 49/64 - 1/64 = -1/32.
    // {0}, {1, 2}: L = 1, d = 4; L = 1, d = 4: Q = 1/4 - 1/4 + 1/4 - 1/4 = 0.
    // {0}, {1}, {2}: Q = 1/4 - (16 + 9 + 1)/64 = -10/64.
    const auto g = graph_of(3, {{0, 1, 2}, {1, 2, 1}, {0, 0, 1}});
    CHECK(modularity(g, 3, std::vector<int>{0, 0, 1}) == doctest::Approx(-1.0 / 32).epsilon(1e-14));
    CHECK(std::fabs(modularity(g, 3, std::vector<int>{0, 1, 1})) < 1e-15);
    CHECK(modularity(g, 3, std::vector<int>{0, 1, 2}) ==
          doctest::Approx(-10.0 / 64).epsilon(1e-14));
    // Labels are names only: the same partition under other labels has the same Q.
    CHECK(modularity(g, 3, std::vector<int>{2, 0, 0}) ==
          modularity(g, 3, std::vector<int>{0, 1, 1}));
    // Best of the five partitions is 0 ({0},{1,2} or all in one); Louvain must not go below
    // the singletons it starts from, nor above the best.
    CHECK(std::fabs(best_modularity(g, 3)) < 1e-15);
    const Communities found = louvain(g, 3);
    CHECK(found.modularity <= 1e-15);
    CHECK(found.modularity >= -10.0 / 64 - 1e-15);
    CHECK(found.modularity == doctest::Approx(modularity(g, 3, found.community)).epsilon(1e-14));
}

TEST_CASE("two disjoint cliques are found exactly, interleaved or not") {
    // K4 and K3, weight 1: m = 6 + 3 = 9, degrees 3 (x4) and 2 (x3), 2m = 18.
    // Q = 6/9 - (12/18)^2 + 3/9 - (6/18)^2 = 1 - 4/9 - 1/9 = 4/9.
    const auto plain = graph_of(7, {{0, 1, 1},
                                    {0, 2, 1},
                                    {0, 3, 1},
                                    {1, 2, 1},
                                    {1, 3, 1},
                                    {2, 3, 1},
                                    {4, 5, 1},
                                    {4, 6, 1},
                                    {5, 6, 1}});
    const Communities a = louvain(plain, 7);
    CHECK(a.community == std::vector<int>{0, 0, 0, 0, 1, 1, 1});
    CHECK(a.count == 2);
    CHECK(a.modularity == doctest::Approx(4.0 / 9).epsilon(1e-14));
    // The same cliques on nodes {0, 2, 4, 6} and {1, 3, 5}: Louvain does not lean on positions.
    const auto mixed = graph_of(7, {{0, 2, 1},
                                    {0, 4, 1},
                                    {0, 6, 1},
                                    {2, 4, 1},
                                    {2, 6, 1},
                                    {4, 6, 1},
                                    {1, 3, 1},
                                    {1, 5, 1},
                                    {3, 5, 1}});
    for (uint64_t seed : {uint64_t(0), uint64_t(1), uint64_t(7), kLouvainSeed}) {
        const Communities b = louvain(mixed, 7, seed);
        CHECK(b.community == std::vector<int>{0, 1, 0, 1, 0, 1, 0});
        CHECK(b.modularity == doctest::Approx(4.0 / 9).epsilon(1e-14));
        CHECK(b.modularity == doctest::Approx(best_modularity(mixed, 7)).epsilon(1e-14));
    }
}

TEST_CASE("Louvain against every partition of tiny graphs") {
    std::mt19937 rng(20261124);
    int random_cases = 0, random_optimal = 0;
    for (int n = 1; n <= 7; ++n)
        for (int rep = 0; rep < 40; ++rep) {
            // Random weights in [0, 1] (one block): Louvain is a heuristic, it may miss the best.
            const auto g = random_graph(rng, std::vector<int>(size_t(n), 0), 0.0, 0.0, 0.5);
            const double best = best_modularity(g, n);
            const Communities found = louvain(g, n, uint64_t(rep));
            const std::vector<int> singletons = [n] {
                std::vector<int> s(static_cast<size_t>(n));
                for (int i = 0; i < n; ++i) s[size_t(i)] = i;
                return s;
            }();
            INFO("n = ", n, ", case ", rep);
            CHECK(found.modularity <= best + 1e-12);
            CHECK(found.modularity >= modularity(g, n, singletons) - 1e-12);
            CHECK(std::fabs(found.modularity - modularity(g, n, found.community)) <= 1e-12);
            CHECK(found.count == check_numbered_by_first_node(found.community));
            ++random_cases;
            random_optimal += found.modularity >= best - 1e-12;
        }
    MESSAGE("Louvain reached the best partition on ", random_optimal, " of ", random_cases,
            " random graphs");
    for (int rep = 0; rep < 200; ++rep) {
        // Two blocks of >= 2 nodes, strong inside, weak between: Louvain finds the
        // best partition, which is the blocks.
        const int n = 4 + rep % 4;
        std::vector<int> block(static_cast<size_t>(n));
        std::vector<int> nodes(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) nodes[size_t(i)] = i;
        std::shuffle(nodes.begin(), nodes.end(), rng);
        const int first_size = 2 + rep % (n - 3);  // both blocks hold >= 2 nodes
        for (int i = 0; i < n; ++i) block[size_t(nodes[size_t(i)])] = i < first_size ? 0 : 1;
        const auto g = random_graph(rng, block, 0.6, 0.05, 0.3);
        const double best = best_modularity(g, n);
        const Communities found = louvain(g, n, uint64_t(rep));
        INFO("block case ", rep, ", n = ", n);
        CHECK(std::fabs(found.modularity - best) <= 1e-12);
        CHECK(found.count == 2);
        for (int i = 0; i < n; ++i)
            CHECK((found.community[size_t(i)] == found.community[size_t(nodes[0])]) ==
                  (block[size_t(i)] == 0));
    }
}

TEST_CASE("Q of Louvain's partition, recomputed on the original graph, equals the returned Q") {
    // Larger graphs go through several aggregation levels; each level's self-loops must carry
    // the weight inside its communities.
    std::mt19937 rng(7);
    for (int n : {12, 40, 97, 200}) {
        std::vector<int> block(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) block[size_t(i)] = int(rng() % 9);
        for (double between : {0.02, 0.3, 1.0}) {
            const auto g = random_graph(rng, block, 0.2, between, 1.0);
            const Communities found = louvain(g, n);
            INFO("n = ", n, ", between = ", between);
            CHECK(std::fabs(found.modularity - modularity(g, n, found.community)) <= 1e-12);
            CHECK(found.count == check_numbered_by_first_node(found.community));
            CHECK(found.modularity > 0.0);
            // Scaling every weight leaves the communities and Q unchanged.
            std::vector<double> scaled = g;
            for (double& w : scaled) w *= 37.5;
            const Communities again = louvain(scaled, n);
            CHECK(again.community == found.community);
            CHECK(std::fabs(again.modularity - found.modularity) <= 1e-12);
        }
    }
}

TEST_CASE("edgeless graphs, single nodes and bad input") {
    const std::vector<double> empty(9, 0.0);
    const Communities none = louvain(empty, 3);
    CHECK(none.count == 3);
    CHECK(none.community == std::vector<int>{0, 1, 2});
    CHECK(none.modularity == 0.0);
    CHECK(modularity(empty, 3, std::vector<int>{0, 0, 1}) == 0.0);
    const Communities one = louvain(std::vector<double>{2.0}, 1);  // a self-loop alone: Q = 0
    CHECK(one.count == 1);
    CHECK(std::fabs(one.modularity) < 1e-15);

    const std::vector<double> asymmetric = {0, 1, 0.5, 0};
    CHECK_THROWS_AS(modularity(asymmetric, 2, std::vector<int>{0, 1}), Error);
    CHECK_THROWS_AS(louvain(asymmetric, 2), Error);
    CHECK_THROWS_AS(louvain(std::vector<double>{0, -1, -1, 0}, 2), Error);
    CHECK_THROWS_AS(louvain(std::vector<double>{0, NAN, NAN, 0}, 2), Error);
    CHECK_THROWS_AS(louvain(std::vector<double>{0, 1, 1}, 2), Error);
    CHECK_THROWS_AS(louvain(std::vector<double>{}, 0), Error);
    const std::vector<double> pair = {0, 1, 1, 0};
    CHECK_THROWS_AS(modularity(pair, 2, std::vector<int>{0, 2}), Error);
    CHECK_THROWS_AS(modularity(pair, 2, std::vector<int>{-1, 0}), Error);
    CHECK_THROWS_AS(modularity(pair, 2, std::vector<int>{0}), Error);
}

TEST_CASE("the token graph: W = (A + A^T) / 2 over allowed entries, self-loop A[i][i]") {
    // Rows attending. The causal map's upper entries hold 9s that must not count.
    const std::vector<float> causal_map = {1.0f, 9, 9, 0.25f, 0.75f, 9, 0.5f, 0.125f, 0.375f};
    const std::vector<double> w = attention_graph(causal_map, 3, /*causal=*/true);
    const std::vector<double> expected = {1.0,    0.125, 0.25,   0.125, 0.75,
                                          0.0625, 0.25,  0.0625, 0.375};
    CHECK(w == expected);
    // Non-causal: every entry counts.
    const std::vector<float> full = {0.5f, 0.5f, 0.25f, 0.75f};
    CHECK(attention_graph(full, 2, false) == std::vector<double>{0.5, 0.375, 0.375, 0.75});
    CHECK_THROWS_AS(attention_graph(full, 3, false), Error);
    const std::vector<float> negative = {1.0f, 0.0f, -0.5f, 1.5f};
    CHECK_THROWS_AS(attention_graph(negative, 2, true), Error);
    // A negative or NaN entry above the diagonal is masked for causal maps, an error otherwise.
    const std::vector<float> junk_above = {1.0f, NAN, 0.5f, 0.5f};
    CHECK_NOTHROW(attention_graph(junk_above, 2, true));
    CHECK_THROWS_AS(attention_graph(junk_above, 2, false), Error);
}

TEST_CASE("head_modularity: Louvain per map, the same on 1 and 2 threads") {
    // Softmax-like rows with block structure and noise, 9 maps of 33 tokens, causal and not.
    const int S = 33, N = 9;
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> maps(size_t(N) * S * S);
    for (int m = 0; m < N; ++m)
        for (int i = 0; i < S; ++i) {
            float* row = maps.data() + (size_t(m) * S + size_t(i)) * S;
            float sum = 0;
            for (int j = 0; j < S; ++j) {
                const bool same_block = (i * (m + 2)) / S == (j * (m + 2)) / S;
                row[j] = u(rng) * (same_block ? 5.0f : 0.2f);
                sum += row[j];
            }
            for (int j = 0; j < S; ++j) row[j] /= sum;
        }
    for (bool causal : {false, true}) {
        const std::vector<Communities> one = head_modularity(maps, N, S, causal, 1);
        const std::vector<Communities> two = head_modularity(maps, N, S, causal, 2);
        const std::vector<Communities> many = head_modularity(maps, N, S, causal, 16);
        const std::vector<Communities> all_cores = head_modularity(maps, N, S, causal, 0);
        REQUIRE(one.size() == size_t(N));
        REQUIRE(two.size() == size_t(N));
        for (int m = 0; m < N; ++m) {
            INFO("map ", m, " causal ", causal);
            const auto map = std::span<const float>(maps).subspan(size_t(m) * S * S, size_t(S) * S);
            const std::vector<double> g = attention_graph(map, S, causal);
            const Communities direct = louvain(g, S);
            CHECK(one[size_t(m)].community == direct.community);
            CHECK(one[size_t(m)].modularity == direct.modularity);
            CHECK(two[size_t(m)].community == direct.community);
            CHECK(two[size_t(m)].modularity == direct.modularity);
            CHECK(many[size_t(m)].community == direct.community);
            CHECK(all_cores[size_t(m)].modularity == direct.modularity);
            CHECK(std::fabs(direct.modularity - modularity(g, S, direct.community)) <= 1e-12);
            CHECK(direct.modularity > 0.1);  // the blocks are there to be found
        }
    }
    CHECK(head_modularity(std::span<const float>(), 0, S, false, 2).empty());
    CHECK_THROWS_AS(head_modularity(maps, N + 1, S, false, 2), Error);
    maps[5 * S * S + 2 * S + 7] = -0.25f;  // map 5, entry (2, 7): above the diagonal
    CHECK_THROWS_AS(head_modularity(maps, N, S, false, 2), Error);
    CHECK_NOTHROW(head_modularity(maps, N, S, true, 2));
}

TEST_CASE("networkx: modularity() of our partitions and of its own, louvain_communities' Q") {
    namespace fs = std::filesystem;
    const fs::path dir = test_support::kTestData / "modularity";
    const nlohmann::json meta =
        nlohmann::json::parse(test_support::read_file(dir / "expected.json"));
    const test_support::NpyArray maps = test_support::read_npy(dir / "maps.npy");
    REQUIRE(maps.shape.size() == 3);
    const int N = int(maps.shape[0]), S = int(maps.shape[1]);
    REQUIRE(meta["maps"].size() == size_t(N));
    const double louvain_tolerance = meta["louvain_tolerance"].get<double>();
    int ours_better = 0, theirs_better = 0;
    for (int m = 0; m < N; ++m) {
        const nlohmann::json& case_ = meta["maps"][size_t(m)];
        INFO("map ", m, ": ", case_["label"].get<std::string>());
        const bool causal = case_["causal"].get<bool>();
        const auto map =
            std::span<const float>(maps.values).subspan(size_t(m) * S * S, size_t(S) * S);
        const std::vector<double> g = attention_graph(map, S, causal);
        // The graph as networkx saw it: its total weight (each edge once).
        double m_total = 0;
        for (int i = 0; i < S; ++i)
            for (int j = 0; j <= i; ++j) m_total += g[size_t(i) * S + size_t(j)];
        CHECK(m_total == doctest::Approx(case_["networkx_size"].get<double>()).epsilon(1e-12));
        // Partitions of every kind, scored by networkx.algorithms.community.modularity.
        for (const nlohmann::json& p : case_["partitions"]) {
            const std::vector<int> labels = p["labels"].get<std::vector<int>>();
            INFO("partition ", p["kind"].get<std::string>());
            CHECK(std::fabs(modularity(g, S, labels) - p["networkx_q"].get<double>()) <= 1e-12);
        }
        // The partition we return now is the one the fixture was made from (if Louvain changes,
        // regenerate the fixture), and networkx scores it as we do.
        const Communities ours = louvain(g, S);
        CHECK(ours.community == case_["headmap_labels"].get<std::vector<int>>());
        CHECK(std::fabs(ours.modularity - case_["headmap_networkx_q"].get<double>()) <= 1e-12);
        // networkx's own Louvain (seed 0) lands on another local optimum at most
        // louvain_tolerance away.
        const double theirs = case_["networkx_louvain_q"].get<double>();
        CHECK(std::fabs(ours.modularity - theirs) <= louvain_tolerance);
        ours_better += ours.modularity > theirs + 1e-12;
        theirs_better += theirs > ours.modularity + 1e-12;
    }
    MESSAGE("Louvain Q: ours higher on ", ours_better, ", networkx higher on ", theirs_better,
            " of ", N, " maps");
}
