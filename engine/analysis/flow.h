// Attention flow (Abnar & Zuidema, 2020): how much attention can flow from each output token to
// each input token through the layers, read as a max-flow problem.
//
// The graph has (L + 1) x S nodes; node (l, i) is token i after layer l (layer 0 = the input
// embeddings). Edge (l, i) -> (l - 1, j) has capacity A'_l[i, j], where A'_l = rownorm(0.5 A_l +
// 0.5 I) is the layer's fused attention with the residual added (analysis.h,
// residual_attention). F[i][j] = max flow from (L, i) to (0, j); attention_flow divides each row
// by its sum, as the reference implementation does. Causal maps give A'_l[i, j] = 0 for j > i,
// so flow never runs to a later token.
//
// How it is solved. Only reachable nodes matter: from source (L, i) the graph runs through layers
// L-1 .. 1 to sink (0, j); the other layer-L nodes are unreachable and the other layer-0 nodes
// are dead ends. All S sinks of one source share that graph except the capacities into the sink,
// so each source is one push-relabel computation (highest label first, phase 1 only: the flow
// value is what reached the sink once no node with excess can reach it) warm-started from sink
// to sink: flow on an edge into the sink above its new capacity is cut back, which leaves a
// valid preflow (the cut amount becomes excess at that node), labels are recomputed by a
// backward breadth-first search, and pushing resumes. Excess that cannot reach one sink stays
// parked and is picked up again when a later sink makes it useful. A sink is done early once its
// flow reaches min(source out, sink in), as no cut can be smaller; the gap heuristic (no node
// left at some label: every node above it is cut off) parks hopeless excess at once.
//
// Per source the graph keeps only the n tokens it can reach (n = S for encoders, i + 1 for
// causal maps): capacities and flows as dense per-layer (n, n) arrays, and which residual edges
// exist, and which nodes hold which label, as bitsets, so finding an admissible edge,
// relabelling and the backward search read n / 64 words per node instead of n values. Sources
// are independent and run in parallel; each thread owns one workspace of about
// (L - 2) S^2 x 16 bytes plus (L - 1)^2 S^2 / 8 bytes, reused for every source it takes.
//
// Cost, with V = (L - 1) n nodes and E = (L - 2) n^2 edges per problem: O(E) per source to set
// up; per sink O(V n / 64) for the backward search plus the push-relabel work, O(V^2 sqrt(E)) in
// the worst case but in practice a few pushes per node (about ten on real maps), since the
// previous sink's flow is reused. In all, S^2 problems of a few V steps and S^2 searches:
// between L S^3 and L S^4 / 64 (measured: 10x from S = 64 to S = 128). For bert-base's L = 12
// at S = 128, 16384 problems of 1408 nodes take 1.2 s on the project's 2-core EPYC with 2
// threads (2.4 s of CPU) for random softmax maps (README.md has the measurements).
//
// Flow arithmetic is in double. A residual capacity or an excess at or below kFlowEpsilon counts
// as zero, which stops pushes of rounding noise, and a sink's search ends once its flow is
// within kFlowEpsilon per node of the bound above; a value can therefore fall short of the exact
// max flow by a few kFlowEpsilon per edge and node (under 1e-6 at bert-base sizes, well below
// the float precision of the result).
#pragma once

#include <span>
#include <vector>

#include "engine/analysis/analysis.h"

namespace headmap::analysis {

inline constexpr double kFlowEpsilon = 1e-12;

// Raw max-flow values (S, S): entry (i, j) is the max flow from (L, i) to (0, j) in the layered
// graph whose edge (l, i) -> (l - 1, j) has capacity capacities[l - 1][i][j]. capacities:
// (L, S, S), layer 1 first, finite and >= 0. threads >= 1 workers split the sources.
std::vector<double> max_flow_values(std::span<const double> capacities, int layers, int seq,
                                    int threads);

// Attention flow of maps (L, H, S, S), consecutive layers from the first: heads fused and weak
// entries discarded as in rollout (residual_attention), max flow per (output, input) pair, each
// row divided by its sum. Returns (S, S), rows = output tokens, columns = input tokens.
std::vector<float> attention_flow(std::span<const float> maps, int layers, int heads, int seq,
                                  HeadFusion fusion, double discard_ratio, int threads);

}  // namespace headmap::analysis
