#include "engine/analysis/modularity.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <thread>

#include "engine/analysis/analysis.h"
#include "headmap/error.hpp"
#include "kernels/cpu/thread_pool.h"

namespace headmap::analysis {
namespace {

// A move must beat staying by this much in Q: far below any real gain (one token of a 512-token
// map moves Q by ~1e-3), far above the rounding of the O(S) sums that price a move (~1e-14).
constexpr double kMinGain = 1e-12;
// A safety net only: every move raises Q by > kMinGain, so sweeps end long before this.
constexpr int kMaxSweeps = 1000;

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Everything one Louvain run on up to n nodes needs, allocated once (per thread in
// head_modularity), so the levels allocate nothing.
struct LouvainScratch {
    // (k, k) graphs of the current and the next level in the adjacency convention: the diagonal
    // holds twice the self-loop, so a node's degree is its row sum and a community's internal
    // weight (all its entries summed) counts every edge twice.
    std::vector<double> level, next;
    // (k, k), community-major: links[c][j] = sum of level[j][m] over the members m of c (j's own
    // self-loop included when j is in c), kept up to date move by move once communities are few.
    std::vector<double> links;
    std::vector<double> degree, total, link;  // (k): node degree, community degree, node-community
    std::vector<int> order, comm, members, touched, active, relabel;  // (k)
    std::vector<uint8_t> seen;  // (k): link[c] is live for the node being priced
    explicit LouvainScratch(int n)
        : level(size_t(n) * size_t(n)),
          next(size_t(n) * size_t(n)),
          links(size_t(n) * size_t(n)),
          degree(size_t(n)),
          total(size_t(n)),
          link(size_t(n)),
          order(size_t(n)),
          comm(size_t(n)),
          members(size_t(n)),
          touched(size_t(n)),
          active(size_t(n)),
          relabel(size_t(n)),
          seen(size_t(n), 0) {}
};

// What both kinds of sweep share. The gain of moving node i (taken out of its community) into
// community c is, up to the factor 2 / 2m, link(i, c) - total(c) * k_i / 2m, where link(i, c)
// sums i's edges to c's other members; staying is the same formula for i's own community.
struct Level {
    const double* graph;  // (k, k)
    int k;
    double two_m;
    double min_gain;  // kMinGain in these units
};

// One sweep pricing each node from its row of the graph: O(k) per node, any number of
// communities. Ties keep the first community met in node order.
bool sweep_rows(LouvainScratch& s, const Level& g, int& communities) {
    bool moved = false;
    for (int visit = 0; visit < g.k; ++visit) {
        const int i = s.order[size_t(visit)];
        const double* row = g.graph + size_t(i) * size_t(g.k);
        int n_touched = 0;
        for (int j = 0; j < g.k; ++j) {
            if (j == i || row[j] == 0.0) continue;
            const size_t c = size_t(s.comm[size_t(j)]);
            if (!s.seen[c]) {
                s.seen[c] = 1;
                s.link[c] = 0.0;
                s.touched[size_t(n_touched++)] = int(c);
            }
            s.link[c] += row[j];
        }
        const int own = s.comm[size_t(i)];
        const double k_i = s.degree[size_t(i)], share = k_i / g.two_m;
        s.total[size_t(own)] -= k_i;
        int best = own;
        double best_gain = (s.seen[size_t(own)] ? s.link[size_t(own)] : 0.0) -
                           s.total[size_t(own)] * share + g.min_gain;
        for (int t = 0; t < n_touched; ++t) {
            const size_t c = size_t(s.touched[size_t(t)]);
            s.seen[c] = 0;
            const double gain = s.link[c] - s.total[c] * share;
            if (int(c) != own && gain > best_gain) best = int(c), best_gain = gain;
        }
        s.total[size_t(best)] += k_i;
        if (best == own) continue;
        s.comm[size_t(i)] = best;
        moved = true;
        ++s.members[size_t(best)];
        if (--s.members[size_t(own)] == 0) --communities;
    }
    return moved;
}

// The links table for the current partition, and the non-empty communities in ascending order
// (returns how many): O(k^2) once.
int build_links(LouvainScratch& s, const Level& g) {
    const size_t k = size_t(g.k);
    int n_active = 0;
    for (size_t c = 0; c < k; ++c)
        if (s.members[c] > 0) {
            s.active[size_t(n_active++)] = int(c);
            std::fill_n(s.links.begin() + std::ptrdiff_t(c * k), k, 0.0);
        }
    for (size_t m = 0; m < k; ++m) {
        const double* row = g.graph + m * k;
        double* to = s.links.data() + size_t(s.comm[m]) * k;
        for (size_t j = 0; j < k; ++j) to[j] += row[j];
    }
    return n_active;
}

// One sweep pricing each node from the links table: O(communities) per node plus O(k) per move,
// which updates the table. Ties keep the community with the lowest number.
bool sweep_links(LouvainScratch& s, const Level& g, int& n_active) {
    const size_t k = size_t(g.k);
    bool moved = false;
    for (int visit = 0; visit < g.k; ++visit) {
        const size_t i = size_t(s.order[size_t(visit)]);
        const double* row = g.graph + i * k;
        const int own = s.comm[i];
        const double k_i = s.degree[i], share = k_i / g.two_m;
        s.total[size_t(own)] -= k_i;
        int best = own;
        double best_gain =
            (s.links[size_t(own) * k + i] - row[i]) - s.total[size_t(own)] * share + g.min_gain;
        for (int a = 0; a < n_active; ++a) {
            const int c = s.active[size_t(a)];
            const double link = s.links[size_t(c) * k + i];
            if (c == own || !(link > 0.0)) continue;  // not a neighbouring community
            const double gain = link - s.total[size_t(c)] * share;
            if (gain > best_gain) best = c, best_gain = gain;
        }
        s.total[size_t(best)] += k_i;
        if (best == own) continue;
        s.comm[i] = best;
        moved = true;
        double* from = s.links.data() + size_t(own) * k;
        double* to = s.links.data() + size_t(best) * k;
        for (size_t j = 0; j < k; ++j) {  // the graph is symmetric: row i is column i
            from[j] -= row[j];
            to[j] += row[j];
        }
        ++s.members[size_t(best)];
        if (--s.members[size_t(own)] == 0) {
            int* end = s.active.data() + n_active;
            std::copy(std::find(s.active.data(), end, own) + 1, end,
                      std::find(s.active.data(), end, own));
            --n_active;
        }
    }
    return moved;
}

// Local moving on the level graph (k, k): every node starts alone; sweeps in the shuffled order
// until no node moves. The first sweeps price nodes from their graph rows; once at most half as
// many communities as nodes are left, from the links table, which makes the many later sweeps
// O(k * communities) instead of O(k^2). Leaves the level's partition in s.comm and the degrees
// in s.degree; returns whether any node moved.
bool move_nodes(LouvainScratch& s, int k, double two_m, uint64_t seed, uint64_t round) {
    const Level g{s.level.data(), k, two_m, 0.5 * kMinGain * two_m};
    for (int i = 0; i < k; ++i) {
        const double* row = g.graph + size_t(i) * size_t(k);
        s.degree[size_t(i)] = std::accumulate(row, row + k, 0.0);
        s.total[size_t(i)] = s.degree[size_t(i)];
        s.comm[size_t(i)] = i;
        s.members[size_t(i)] = 1;
        s.order[size_t(i)] = i;
    }
    uint64_t state = seed + round * 0xd1b54a32d192ed03ULL;
    for (int i = k - 1; i > 0; --i)
        std::swap(s.order[size_t(i)], s.order[size_t(splitmix64(state) % uint64_t(i + 1))]);
    int communities = k;
    bool moved_any = false, use_links = false;
    for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
        const bool moved =
            use_links ? sweep_links(s, g, communities) : sweep_rows(s, g, communities);
        if (!moved) break;
        moved_any = true;
        if (!use_links && 2 * communities <= k) {
            communities = build_links(s, g);
            use_links = true;
        }
    }
    return moved_any;
}

// Louvain on s.level (n, n), adjacency convention. Writes out's partition, count and Q.
void run_louvain(LouvainScratch& s, int n, uint64_t seed, Communities& out) {
    out.community.resize(size_t(n));
    std::iota(out.community.begin(), out.community.end(), 0);  // original node -> level node
    const double two_m = std::accumulate(s.level.begin(), s.level.end(), 0.0);
    if (!(two_m > 0.0)) {  // edgeless: nothing to group, Q = 0 by convention
        out.count = n;
        out.modularity = 0.0;
        return;
    }
    int k = n;
    for (uint64_t round = 0; move_nodes(s, k, two_m, seed, round); ++round) {
        // Number the communities by their first node, so labels do not depend on the order.
        std::fill_n(s.relabel.begin(), k, -1);
        int next_k = 0;
        for (int i = 0; i < k; ++i) {
            int& label = s.relabel[size_t(s.comm[size_t(i)])];
            if (label < 0) label = next_k++;
        }
        if (next_k == k) break;  // nodes only traded places: still one node per community
        for (int i = 0; i < k; ++i) s.comm[size_t(i)] = s.relabel[size_t(s.comm[size_t(i)])];
        for (int& c : out.community) c = s.comm[size_t(c)];
        // One node per community; the weight inside a community becomes its self-loop.
        std::fill_n(s.next.begin(), size_t(next_k) * size_t(next_k), 0.0);
        for (int i = 0; i < k; ++i) {
            const double* row = s.level.data() + size_t(i) * size_t(k);
            double* to = s.next.data() + size_t(s.comm[size_t(i)]) * size_t(next_k);
            for (int j = 0; j < k; ++j) to[s.comm[size_t(j)]] += row[j];
        }
        std::swap(s.level, s.next);
        k = next_k;
    }
    // The final level's nodes are the communities; s.degree holds their degrees.
    double q = 0.0;
    for (int c = 0; c < k; ++c) {
        const double internal = s.level[size_t(c) * size_t(k) + size_t(c)] / two_m;
        const double share = s.degree[size_t(c)] / two_m;
        q += internal - share * share;
    }
    out.count = k;
    out.modularity = q;
}

// W of one map into `graph` (S, S) with the diagonal scaled by `self_loop_factor` (1: networkx's
// matrix, 2: the adjacency convention Louvain works in). Entries are not checked here.
void token_graph(const float* map, int seq, bool causal, double* graph, double self_loop_factor) {
    const size_t S = size_t(seq);
    for (size_t i = 0; i < S; ++i) {
        graph[i * S + i] = self_loop_factor * double(map[i * S + i]);
        for (size_t j = 0; j < i; ++j) {
            // Entry (j, i) with j < i lies above the diagonal: masked for causal maps.
            const double upper = causal ? 0.0 : double(map[j * S + i]);
            const double w = 0.5 * (double(map[i * S + j]) + upper);
            graph[i * S + j] = w;
            graph[j * S + i] = w;
        }
    }
}

void check_graph(std::span<const double> weights, int n, const char* where) {
    if (n <= 0 || weights.size() != size_t(n) * size_t(n))
        throw Error(std::string(where) + ": " + std::to_string(weights.size()) +
                    " weights are not an n x n graph with n = " + std::to_string(n));
    const size_t N = size_t(n);
    for (size_t i = 0; i < N; ++i)
        for (size_t j = 0; j < N; ++j) {
            const double w = weights[i * N + j];
            if (!(w >= 0.0) || !std::isfinite(w))
                throw Error(std::string(where) + ": weight (" + std::to_string(i) + ", " +
                            std::to_string(j) + ") is " + std::to_string(w) +
                            " (expected finite weights >= 0)");
            if (w != weights[j * N + i])
                throw Error(std::string(where) + ": weights (" + std::to_string(i) + ", " +
                            std::to_string(j) + ") and (" + std::to_string(j) + ", " +
                            std::to_string(i) + ") differ (expected a symmetric graph)");
        }
}

}  // namespace

void attention_graph(std::span<const float> map, int seq, bool causal, std::span<double> graph) {
    check_attention_maps(map, 1, seq, causal, "attention_graph");
    if (graph.size() != map.size())
        throw Error("attention_graph: the output holds " + std::to_string(graph.size()) +
                    " values, expected " + std::to_string(map.size()));
    token_graph(map.data(), seq, causal, graph.data(), 1.0);
}

std::vector<double> attention_graph(std::span<const float> map, int seq, bool causal) {
    std::vector<double> graph(map.size());
    attention_graph(map, seq, causal, graph);
    return graph;
}

double modularity(std::span<const double> weights, int n, std::span<const int> community) {
    check_graph(weights, n, "modularity");
    if (community.size() != size_t(n))
        throw Error("modularity: " + std::to_string(community.size()) +
                    " community labels for a graph of " + std::to_string(n) + " nodes");
    for (int c : community)
        if (c < 0 || c >= n)
            throw Error("modularity: community label " + std::to_string(c) +
                        " (expected 0 <= label < " + std::to_string(n) + ")");
    const size_t N = size_t(n);
    // Per community: internal weight with every edge counted twice (self-loops too) = 2 L_c,
    // and degree d_c; 2m = the sum of all degrees.
    std::vector<double> internal(N, 0.0), degree(N, 0.0);
    double two_m = 0.0;
    for (size_t i = 0; i < N; ++i) {
        const double* row = weights.data() + i * N;
        const size_t own = size_t(community[i]);
        double k_i = row[i], inside = row[i];  // the self-loop's second count
        for (size_t j = 0; j < N; ++j) {
            k_i += row[j];
            if (size_t(community[j]) == own) inside += row[j];
        }
        internal[own] += inside;
        degree[own] += k_i;
        two_m += k_i;
    }
    if (!(two_m > 0.0)) return 0.0;
    double q = 0.0;
    for (size_t c = 0; c < N; ++c) {
        const double share = degree[c] / two_m;
        q += internal[c] / two_m - share * share;
    }
    return q;
}

Communities louvain(std::span<const double> weights, int n, uint64_t seed) {
    check_graph(weights, n, "louvain");
    LouvainScratch scratch(n);
    std::copy(weights.begin(), weights.end(), scratch.level.begin());
    for (size_t i = 0; i < size_t(n); ++i) scratch.level[i * size_t(n) + i] *= 2.0;
    Communities out;
    run_louvain(scratch, n, seed, out);
    return out;
}

std::vector<Communities> head_modularity(std::span<const float> maps, int n_maps, int seq,
                                         bool causal, int threads, uint64_t seed) {
    check_attention_maps(maps, n_maps, seq, causal, "head_modularity");
    if (threads <= 0) threads = int(std::thread::hardware_concurrency());
    std::vector<Communities> out(static_cast<size_t>(n_maps));
    for (Communities& c : out) c.community.resize(size_t(seq));
    const int workers = std::max(1, std::min(threads, n_maps));
    std::vector<LouvainScratch> scratch;
    scratch.reserve(size_t(workers));
    for (int t = 0; t < workers; ++t) scratch.emplace_back(seq);
    cpu::ThreadPool pool(workers);
    const size_t per_map = size_t(seq) * size_t(seq);
    pool.run(n_maps, [&](int m, int thread) {
        LouvainScratch& s = scratch[size_t(thread)];
        token_graph(maps.data() + size_t(m) * per_map, seq, causal, s.level.data(), 2.0);
        run_louvain(s, seq, seed, out[size_t(m)]);
    });
    return out;
}

}  // namespace headmap::analysis
