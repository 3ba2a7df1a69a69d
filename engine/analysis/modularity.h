// Modularity of an attention head's community structure (seed 004): the map is read as an
// undirected weighted graph between tokens, Louvain finds communities, Newman's Q scores them.
//
// The graph. W = (A + A^T) / 2 over the allowed entries of A (with `causal`, A[i][j] for j > i
// counts as 0 whatever it holds), so W[i][j] = W[j][i] is the mean attention the two tokens pay
// each other and W[i][i] = A[i][i] is a self-loop. Self-loops follow networkx: a node's degree
// counts its self-loop twice, k_i = sum_j W[i][j] + W[i][i], 2m = sum_i k_i, and a community's
// internal weight L_c counts every edge once, the self-loops included:
//
//     Q = sum_c [ L_c / m - (d_c / 2m)^2 ],  d_c = sum of k_i over c   (resolution 1)
//
// exactly networkx.algorithms.community.modularity(G, partition) for G =
// networkx.from_numpy_array(W). Keeping self-loops matters for attention: a head that attends
// to the token itself makes that token its own community. An edgeless graph (2m = 0) has Q = 0.
// Weights must be finite and >= 0.
//
// Louvain (Blondel et al. 2008), no Leiden refinement: local moving, then aggregation of each
// community into one node (its internal weight becomes a self-loop), repeated while a level moves
// any node. Local moving visits the nodes in a Fisher-Yates shuffle drawn from splitmix64(seed),
// drawn afresh per level, and sweeps until no node moves; a node moves to the neighbouring
// community with the largest gain, and only when that gain beats staying by more than 1e-12 in Q
// (so rounding cannot make nodes cycle). Ties keep the first candidate found (see the .cpp).
// Cost on a dense S x S graph, per head: building W, each aggregation and the first one or two
// sweeps of a level are O(S^2); once a level has at most S/2 communities C, a table of node-to-
// community weights makes each further sweep O(S * C + moves * S). Counted at S = 512 on
// random-weight GPT-2-small and real all-MiniLM-L6-v2 maps: 2.5 to 4 row-priced sweeps per head
// (over all levels; the upper levels are small) and 6 to 8 table-priced ones. Timings in the
// README. Memory: 3 S^2 doubles per thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace headmap::analysis {

inline constexpr uint64_t kLouvainSeed = 0x5eed;

struct Communities {
    std::vector<int> community;  // (n) community of each node, numbered 0.. by first node
    int count = 0;               // number of communities
    double modularity = 0;       // Q of this partition
};

// The token graph of one map (S, S), rows attending: W (S, S) as above, written into `graph`.
// headmap::Error for a wrong size or an allowed entry that is negative or not finite.
void attention_graph(std::span<const float> map, int seq, bool causal, std::span<double> graph);
std::vector<double> attention_graph(std::span<const float> map, int seq, bool causal);

// Newman's Q of `community` (n labels in [0, n)) on the symmetric graph `weights` (n, n).
// headmap::Error for a non-symmetric, negative or non-finite graph or a bad label.
double modularity(std::span<const double> weights, int n, std::span<const int> community);

// Louvain on the symmetric graph `weights` (n, n). `modularity` is computed on the last
// aggregated graph (tests recompute it on the original one).
Communities louvain(std::span<const double> weights, int n, uint64_t seed = kLouvainSeed);

// Louvain on the token graph of each of `n_maps` maps (n_maps, S, S), in parallel over maps on
// `threads` threads, the caller included (0: all hardware threads). Result i is map i's; the
// same for any thread count.
std::vector<Communities> head_modularity(std::span<const float> maps, int n_maps, int seq,
                                         bool causal, int threads, uint64_t seed = kLouvainSeed);

}  // namespace headmap::analysis
