// Attention flow against values worked out by hand and against a plain Edmonds-Karp max flow on
// the explicit graph of all (L + 1) x S nodes, written here independently of engine/analysis/flow.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "engine/analysis/analysis.h"
#include "engine/analysis/flow.h"
#include "headmap/error.hpp"

using namespace headmap;
using namespace headmap::analysis;

namespace {

// Random softmax maps (L, H, S, S); with `causal`, keys after the query get exactly 0. Logits
// are scaled by `sharpness` (1: spread out, 4: a few keys take most of each row).
std::vector<float> random_maps(int layers, int heads, int seq, bool causal, double sharpness,
                               std::mt19937& rng) {
    std::normal_distribution<double> logit(0.0, sharpness);
    std::vector<float> maps(size_t(layers) * heads * seq * seq);
    std::vector<double> row(static_cast<size_t>(seq));
    for (size_t r = 0; r < size_t(layers) * heads * seq; ++r) {
        const int query = int(r % size_t(seq)), keys = causal ? query + 1 : seq;
        double sum = 0;
        for (int j = 0; j < keys; ++j) sum += row[size_t(j)] = std::exp(logit(rng));
        for (int j = 0; j < seq; ++j)
            maps[r * seq + j] = j < keys ? float(row[size_t(j)] / sum) : 0;
    }
    return maps;
}

// Edmonds-Karp (shortest augmenting paths by breadth-first search) on the explicit layered graph:
// node l * S + i is token i after layer l, edge (l, i) -> (l - 1, j) has capacity
// capacities[l - 1][i][j]. Returns the max flow from (L, source) to (0, sink).
double edmonds_karp(const std::vector<double>& capacities, int layers, int seq, int source,
                    int sink) {
    const int N = (layers + 1) * seq, S = seq;
    std::vector<double> residual(size_t(N) * N, 0.0);                  // (N, N)
    std::vector<std::vector<int>> neighbours(static_cast<size_t>(N));  // both ways of each edge
    for (int l = 1; l <= layers; ++l)
        for (int i = 0; i < S; ++i)
            for (int j = 0; j < S; ++j) {
                const double c = capacities[(size_t(l - 1) * S + size_t(i)) * S + size_t(j)];
                if (c <= 0) continue;
                const int u = l * S + i, v = (l - 1) * S + j;
                residual[size_t(u) * N + size_t(v)] = c;
                neighbours[size_t(u)].push_back(v);
                neighbours[size_t(v)].push_back(u);
            }
    const int s = layers * S + source, t = sink;
    double total = 0;
    for (;;) {
        std::vector<int> parent(size_t(N), -1);
        parent[size_t(s)] = s;
        std::queue<int> open;
        open.push(s);
        while (!open.empty() && parent[size_t(t)] < 0) {
            const int u = open.front();
            open.pop();
            for (int v : neighbours[size_t(u)])
                if (parent[size_t(v)] < 0 && residual[size_t(u) * N + size_t(v)] > 1e-15) {
                    parent[size_t(v)] = u;
                    open.push(v);
                }
        }
        if (parent[size_t(t)] < 0) return total;
        double bottleneck = INFINITY;
        for (int v = t; v != s; v = parent[size_t(v)])
            bottleneck = std::min(bottleneck, residual[size_t(parent[size_t(v)]) * N + size_t(v)]);
        for (int v = t; v != s; v = parent[size_t(v)]) {
            residual[size_t(parent[size_t(v)]) * N + size_t(v)] -= bottleneck;
            residual[size_t(v) * N + size_t(parent[size_t(v)])] += bottleneck;
        }
        total += bottleneck;
    }
}

// The largest |a - b| over two matrices of equal size (NaN counts as infinite).
template <typename A, typename B>
double max_diff(const std::vector<A>& a, const std::vector<B>& b) {
    REQUIRE(a.size() == b.size());
    double worst = 0;
    for (size_t k = 0; k < a.size(); ++k) {
        const double d = std::fabs(double(a[k]) - double(b[k]));
        if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
    }
    return worst;
}

}  // namespace

TEST_CASE("one layer: the flow is A' itself, as rollout") {
    // A = [[1, 0], [0.4, 0.6]]; A' = rownorm(0.5 A + 0.5 I) = [[1, 0], [0.2, 0.8]]. With one
    // layer each source reaches each sink by one edge, so F = A' (rows already sum to 1).
    const std::vector<float> a = {1.0f, 0.0f, 0.4f, 0.6f};
    const std::vector<float> flow = attention_flow(a, 1, 1, 2, HeadFusion::Mean, 0.0, 1);
    REQUIRE(flow.size() == 4);
    CHECK(flow[0] == doctest::Approx(1.0));
    CHECK(flow[1] == 0.0f);
    CHECK(flow[2] == doctest::Approx(0.2));
    CHECK(flow[3] == doctest::Approx(0.8));
}

TEST_CASE("two layers, three tokens, worked by hand") {
    // Layer 1: A_1 = [[1,0,0],[.6,.4,0],[.2,.2,.6]] -> A'_1 = [[1,0,0],[.3,.7,0],[.1,.1,.8]].
    // Layer 2: A_2 = [[1,0,0],[.8,.2,0],[.4,.4,.2]] -> A'_2 = [[1,0,0],[.4,.6,0],[.2,.2,.6]].
    // With two layers every path is (2, i) -> (1, k) -> (0, j) and paths share no edge, so
    // F[i][j] = sum_k min(A'_2[i][k], A'_1[k][j]):
    //   row 0: [1, 0, 0]
    //   row 1: k=0: [.4, 0, 0]; k=1: [min(.6,.3), min(.6,.7), 0] = [.3, .6, 0] -> [.7, .6, 0]
    //   row 2: k=0: [.2, 0, 0]; k=1: [.2, .2, 0]; k=2: [.1, .1, .6]           -> [.5, .3, .6]
    // Normalised: [1, 0, 0], [7/13, 6/13, 0], [5/14, 3/14, 6/14]. (Rollout gives row 1
    // A'_2 A'_1 = [.58, .42, 0]: flow is not rollout.)
    const std::vector<float> maps = {
        1.0f, 0.0f, 0.0f, 0.6f, 0.4f, 0.0f, 0.2f, 0.2f, 0.6f,   // layer 1
        1.0f, 0.0f, 0.0f, 0.8f, 0.2f, 0.0f, 0.4f, 0.4f, 0.2f};  // layer 2
    const std::vector<double> residual = residual_attention(maps, 2, 1, 3, HeadFusion::Mean, 0.0);
    const std::vector<double> raw = max_flow_values(residual, 2, 3, 1);
    const double expected_raw[9] = {1, 0, 0, 0.7, 0.6, 0, 0.5, 0.3, 0.6};
    for (int k = 0; k < 9; ++k) {
        INFO("entry ", k);
        CHECK(raw[size_t(k)] == doctest::Approx(expected_raw[k]).epsilon(1e-6));
    }
    const std::vector<float> flow = attention_flow(maps, 2, 1, 3, HeadFusion::Mean, 0.0, 2);
    const double expected[9] = {1, 0, 0, 7.0 / 13, 6.0 / 13, 0, 5.0 / 14, 3.0 / 14, 6.0 / 14};
    for (int k = 0; k < 9; ++k) {
        INFO("entry ", k);
        CHECK(flow[size_t(k)] == doctest::Approx(expected[k]).epsilon(1e-6));
    }
}

TEST_CASE("three layers: paths that share an edge, by hand") {
    // Capacities given directly (layer 1 first), two tokens:
    //   layer 3: (3,0)->(2,0) 1;  (3,1)->(2,0) .5, (3,1)->(2,1) .5
    //   layer 2: every (2,u)->(1,v) .5
    //   layer 1: (1,0)->(0,0) .6, (1,0)->(0,1) .4, (1,1)->(0,1) 1
    // (3,1) -> (0,0): two paths, via (2,0) and via (2,1), each of bottleneck .5, but both end on
    //   the one edge (1,0)->(0,0): max flow .6, not .5 + .5.
    // (3,1) -> (0,1): .5 from each of (2,0), (2,1) to (1,1), which passes 1: max flow 1.
    // (3,0) -> (0,0): (2,0)->(1,0) .5 is the bottleneck: .5.
    // (3,0) -> (0,1): (2,0)->(1,0)->(0,1) min(.5, .4) = .4, plus (2,0)->(1,1)->(0,1) .5: .9.
    std::vector<double> caps(3 * 2 * 2, 0.0);
    const auto at = [&](int layer, int i, int j) -> double& {
        return caps[(size_t(layer - 1) * 2 + size_t(i)) * 2 + size_t(j)];
    };
    at(3, 0, 0) = 1.0, at(3, 1, 0) = 0.5, at(3, 1, 1) = 0.5;
    at(2, 0, 0) = 0.5, at(2, 1, 0) = 0.5, at(2, 0, 1) = 0.5, at(2, 1, 1) = 0.5;
    at(1, 0, 0) = 0.6, at(1, 0, 1) = 0.4, at(1, 1, 1) = 1.0;
    for (int threads : {1, 2}) {
        const std::vector<double> raw = max_flow_values(caps, 3, 2, threads);
        REQUIRE(raw.size() == 4);
        CHECK(raw[0] == doctest::Approx(0.5));
        CHECK(raw[1] == doctest::Approx(0.9));
        CHECK(raw[2] == doctest::Approx(0.6));
        CHECK(raw[3] == doctest::Approx(1.0));
    }
}

TEST_CASE("max flow equals an explicit Edmonds-Karp on many tiny random graphs") {
    std::mt19937 rng(20200501);
    const HeadFusion fusions[] = {HeadFusion::Mean, HeadFusion::Max, HeadFusion::Min};
    int graphs = 0;
    double worst_raw = 0, worst_flow = 0;
    for (int layers = 1; layers <= 4; ++layers)
        for (int seq = 1; seq <= 6; ++seq)
            for (bool causal : {false, true})
                for (HeadFusion fusion : fusions)
                    for (double discard : {0.0, 0.3}) {
                        const int heads = 1 + graphs % 3;
                        const double sharpness = graphs % 2 ? 4.0 : 1.0;
                        const std::vector<float> maps =
                            random_maps(layers, heads, seq, causal, sharpness, rng);
                        const std::vector<double> residual =
                            residual_attention(maps, layers, heads, seq, fusion, discard);
                        std::vector<double> expected(size_t(seq) * seq);
                        for (int i = 0; i < seq; ++i)
                            for (int j = 0; j < seq; ++j)
                                expected[size_t(i) * seq + j] =
                                    edmonds_karp(residual, layers, seq, i, j);
                        const std::vector<double> raw =
                            max_flow_values(residual, layers, seq, 1 + graphs % 2);
                        worst_raw = std::max(worst_raw, max_diff(raw, expected));
                        for (int i = 0; i < seq; ++i) {
                            double sum = 0;
                            for (int j = 0; j < seq; ++j) sum += expected[size_t(i) * seq + j];
                            for (int j = 0; j < seq; ++j) expected[size_t(i) * seq + j] /= sum;
                        }
                        const std::vector<float> flow =
                            attention_flow(maps, layers, heads, seq, fusion, discard, 2);
                        worst_flow = std::max(worst_flow, max_diff(flow, expected));
                        ++graphs;
                    }
    CHECK(graphs == 4 * 6 * 2 * 3 * 2);
    CHECK(worst_raw <= 1e-6);
    CHECK(worst_flow <= 1e-6);
}

TEST_CASE("larger graphs against Edmonds-Karp: flow rerouted across many sinks") {
    // Bigger problems exercise what tiny ones cannot: excess parked for one sink and reused for
    // the next, relabelling far from the sink, a graph thinned by discarding.
    struct Case {
        int layers, heads, seq;
        bool causal;
        double sharpness, discard;
        std::vector<int> sources;
    };
    const std::vector<Case> cases = {
        {6, 2, 12, false, 1.0, 0.0, {0, 5, 11}},
        {6, 3, 14, true, 3.0, 0.0, {3, 13}},
        {5, 2, 16, false, 4.0, 0.2, {0, 7, 15}},
        {3, 2, 40, false, 3.0, 0.9, {0, 39}},
    };
    std::mt19937 rng(7);
    for (const Case& c : cases) {
        CAPTURE(c.seq);
        CAPTURE(c.layers);
        const std::vector<float> maps =
            random_maps(c.layers, c.heads, c.seq, c.causal, c.sharpness, rng);
        const std::vector<double> residual =
            residual_attention(maps, c.layers, c.heads, c.seq, HeadFusion::Mean, c.discard);
        const std::vector<double> raw = max_flow_values(residual, c.layers, c.seq, 2);
        double worst = 0;
        for (int i : c.sources)
            for (int j = 0; j < c.seq; ++j)
                worst = std::max(worst, std::fabs(raw[size_t(i) * c.seq + j] -
                                                  edmonds_karp(residual, c.layers, c.seq, i, j)));
        CHECK(worst <= 1e-6);
    }
}

TEST_CASE("more than 64 tokens: rows of bitsets span several words") {
    // 66 tokens, 3 layers. The top layer is dense, so every source reaches all 66 tokens (two
    // 64-bit words per bitset row); the layers below keep the diagonal and ~6% of the other
    // edges, so that Edmonds-Karp stays quick.
    const int L = 3, S = 66;
    std::mt19937 rng(70);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<double> caps(size_t(L) * S * S, 0.0);  // (L, S, S)
    for (int l = 0; l < L; ++l)
        for (int i = 0; i < S; ++i) {
            double* row = &caps[(size_t(l) * S + size_t(i)) * S];
            double sum = 0;
            for (int j = 0; j < S; ++j) {
                const bool kept = l == L - 1 || i == j || unit(rng) < 0.06;
                sum += row[j] = kept ? unit(rng) + (i == j ? 1.0 : 0.0) : 0.0;
            }
            for (int j = 0; j < S; ++j) row[j] /= sum;
        }
    const std::vector<double> raw = max_flow_values(caps, L, S, 2);
    double worst = 0;
    for (int i : {0, 65})
        for (int j = 0; j < S; ++j)
            worst =
                std::max(worst, std::fabs(raw[size_t(i) * S + j] - edmonds_karp(caps, L, S, i, j)));
    CHECK(worst <= 1e-6);
}

TEST_CASE("rows sum to 1, causal flow never reaches a later token, one token gives [[1]]") {
    std::mt19937 rng(11);
    for (bool causal : {false, true}) {
        const int L = 5, H = 3, S = 17;
        const std::vector<float> maps = random_maps(L, H, S, causal, 2.0, rng);
        const std::vector<float> flow = attention_flow(maps, L, H, S, HeadFusion::Max, 0.1, 2);
        REQUIRE(flow.size() == size_t(S) * S);
        int later = 0, negative = 0;
        for (int i = 0; i < S; ++i) {
            double sum = 0;
            for (int j = 0; j < S; ++j) {
                const float v = flow[size_t(i) * S + j];
                sum += v;
                if (v < 0) ++negative;
                if (causal && j > i && v != 0.0f) ++later;
            }
            CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
        }
        CHECK(negative == 0);
        CHECK(later == 0);
    }
    const std::vector<float> one = {1.0f, 1.0f, 1.0f};  // 3 layers, 1 head, 1 token
    const std::vector<float> single = attention_flow(one, 3, 1, 1, HeadFusion::Mean, 0.0, 4);
    REQUIRE(single.size() == 1);
    CHECK(single[0] == 1.0f);
}

TEST_CASE("one thread and two give the same bits") {
    std::mt19937 rng(3);
    for (bool causal : {false, true}) {
        const int L = 6, H = 4, S = 24;
        const std::vector<float> maps = random_maps(L, H, S, causal, 3.0, rng);
        const std::vector<float> one = attention_flow(maps, L, H, S, HeadFusion::Mean, 0.0, 1);
        const std::vector<float> two = attention_flow(maps, L, H, S, HeadFusion::Mean, 0.0, 2);
        const std::vector<float> many = attention_flow(maps, L, H, S, HeadFusion::Mean, 0.0, 64);
        CHECK(one == two);
        CHECK(one == many);
    }
}

TEST_CASE("bad arguments throw headmap::Error") {
    const std::vector<float> maps(2 * 3 * 4 * 4, 0.25f);  // 2 layers, 3 heads, 4 tokens
    CHECK_NOTHROW(attention_flow(maps, 2, 3, 4, HeadFusion::Mean, 0.0, 1));
    CHECK_THROWS_AS(attention_flow(maps, 2, 3, 5, HeadFusion::Mean, 0.0, 1), Error);  // sizes
    CHECK_THROWS_AS(attention_flow(maps, 3, 3, 4, HeadFusion::Mean, 0.0, 1), Error);
    CHECK_THROWS_AS(attention_flow(maps, 0, 3, 4, HeadFusion::Mean, 0.0, 1), Error);  // layers 0
    CHECK_THROWS_AS(attention_flow({}, 0, 3, 4, HeadFusion::Mean, 0.0, 1), Error);
    CHECK_THROWS_AS(attention_flow(maps, 2, 0, 4, HeadFusion::Mean, 0.0, 1), Error);
    CHECK_THROWS_AS(attention_flow(maps, 2, 3, 4, HeadFusion::Mean, 1.0, 1), Error);  // discard
    CHECK_THROWS_AS(attention_flow(maps, 2, 3, 4, HeadFusion::Mean, 0.0, 0), Error);  // threads
    CHECK_THROWS_WITH_AS(attention_flow(maps, 2, 3, 5, HeadFusion::Mean, 0.0, 1),
                         doctest::Contains("flow: maps do not hold 2 layers x 3 heads"), Error);
    std::vector<double> caps(2 * 4 * 4, 0.25);
    CHECK_NOTHROW(max_flow_values(caps, 2, 4, 1));
    CHECK_THROWS_AS(max_flow_values(caps, 2, 3, 1), Error);
    caps[5] = -0.1;
    CHECK_THROWS_AS(max_flow_values(caps, 2, 4, 1), Error);  // a negative capacity
    caps[5] = NAN;
    CHECK_THROWS_AS(max_flow_values(caps, 2, 4, 1), Error);
}
