#include "engine/analysis/flow.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "headmap/error.hpp"

namespace headmap::analysis {
namespace {

using Word = uint64_t;
constexpr double kEps = kFlowEpsilon;
// Relabelling tries this many label values through the label bitsets before it scans the node's
// residual edges one by one (a node whose neighbours all sit far above it, or none at all).
constexpr int kLabelProbes = 8;

inline void set_bit(Word* row, int k) {
    row[k >> 6] |= Word(1) << (k & 63);
}
inline void clear_bit(Word* row, int k) {
    row[k >> 6] &= ~(Word(1) << (k & 63));
}

// One source's max flows to every sink (flow.h says how). A workspace sized for the largest
// problem once, reused for every source a thread takes, so solving allocates nothing.
//
// Nodes are the tokens of layers 1 .. L-1 that the source can reach: node x = (l - 1) n + k for
// layer l and reachable token k (live_[k] is its position). The source (L, i) and the sink (0, j)
// are not nodes: the source's edges are saturated once and never looked at again (phase 1 never
// returns excess to the source), and the sink has label 0 and edges sink_cap_/sink_flow_ from
// layer 1. Edge layer e (2 <= e <= L-1, from layer e down to layer e - 1) is matrix m = e - 2:
// edges_ (n, n), rows the upper layer's tokens.
//
// Which residual edges exist is kept in bitsets, so that finding admissible edges, relabelling
// and the backward search read a few words per node instead of n values. Per matrix, one row of
// `words_` words per token: down_out_[u] bit v: (e, u) -> (e-1, v) has room (cap - flow > eps);
// down_in_[v] bit u: the same edges seen from below; up_out_[v] bit u: (e-1, v) -> (e, u) can
// cancel flow (flow > eps); up_in_[u] bit v: the same seen from above. label_bits_ holds, per
// layer and label value, the layer's tokens with that label (dead nodes in none).
class SourceSolver {
  public:
    SourceSolver(std::span<const double> capacities, int layers, int seq)
        : caps_(capacities), L_(layers), S_(seq) {
        const size_t S = size_t(seq), mats = size_t(std::max(layers - 2, 0));
        const size_t words = (S + 63) / 64, most_nodes = size_t(std::max(layers - 1, 0)) * S;
        edges_.resize(mats * S * S);
        down_out_.resize(mats * S * words), down_in_.resize(mats * S * words);
        up_out_.resize(mats * S * words), up_in_.resize(mats * S * words);
        label_bits_.resize(size_t(std::max(layers - 1, 0)) * (most_nodes + 1) * words);
        unlabeled_.resize(size_t(std::max(layers - 1, 0)) * words);
        sink_cap_.resize(S), sink_flow_.resize(S), live_.resize(S), reached_.resize(3 * S);
        excess_.resize(most_nodes), label_.resize(most_nodes), arc_.resize(most_nodes);
        next_active_.resize(most_nodes), queue_.resize(most_nodes);
        first_active_.resize(most_nodes + 2), label_count_.resize(most_nodes + 2);
    }

    // Row `source` of the raw max-flow matrix: flows[j] = max flow from (L, source) to (0, j).
    void solve(int source, std::span<double> flows) {
        const size_t S = size_t(S_);
        if (L_ == 1) {  // the source's edges go straight into the sinks
            for (size_t j = 0; j < S; ++j) flows[j] = caps_[size_t(source) * S + j];
            return;
        }
        set_up(source);
        for (int sink = 0; sink < S_; ++sink) {
            const double bound = set_sink(sink);
            if (value_ < bound) global_relabel();  // else nothing to push: no sink edge or done
            while (highest_ > 0 && value_ < bound) {
                const int x = first_active_[size_t(highest_)];
                if (x < 0) {
                    --highest_;
                    continue;
                }
                first_active_[size_t(highest_)] = next_active_[size_t(x)];
                if (label_[size_t(x)] >= dead_) continue;  // cut off by a gap while it waited
                discharge(x);
                if (relabels_ > nodes_) global_relabel();  // labels drift from distances
            }
            double value = 0;
            for (int k = 0; k < n_; ++k) value += sink_flow_[size_t(k)];
            flows[size_t(sink)] = value;
        }
    }

  private:
    std::span<const double> caps_;  // (L, S, S): A'_1 .. A'_L
    int L_, S_;
    int n_ = 0, words_ = 0, nodes_ = 0;
    int dead_ = 0;  // the label of nodes that cannot reach the sink
    int highest_ = 0, relabels_ = 0;
    int top_label_ = 0;  // no label below dead_ is above it: the label_bits_ rows in use
    double source_out_ = 0, value_ = 0;  // flow out of the source; into the sink
    struct Edge {
        double cap, flow;  // side by side: a push reads both
    };
    std::vector<Edge> edges_;                   // (L - 2, n, n)
    std::vector<Word> down_out_, down_in_;      // (L - 2, n, words)
    std::vector<Word> up_out_, up_in_;          // (L - 2, n, words)
    std::vector<Word> label_bits_;              // (L - 1, nodes + 1, words)
    std::vector<Word> unlabeled_;               // (L - 1, words): backward search scratch
    std::vector<double> sink_cap_, sink_flow_;  // (n): layer 1 -> sink
    std::vector<double> excess_;                // (nodes)
    std::vector<int> label_, arc_, next_active_, first_active_, queue_, live_;
    std::vector<int> label_count_;  // (nodes + 1): nodes per label below dead_, for gaps
    std::vector<char> reached_;

    const double* layer_caps(int e) const { return &caps_[size_t(e - 1) * size_t(S_) * S_]; }
    size_t matrix(int e) const { return size_t(e - 2) * size_t(n_) * n_; }
    size_t bit_row(int e, int k) const {
        return (size_t(e - 2) * size_t(n_) + size_t(k)) * size_t(words_);
    }
    Word* labels_of(int layer, int label) {
        return &label_bits_[(size_t(layer - 1) * size_t(nodes_ + 1) + size_t(label)) * words_];
    }
    int node(int layer, int k) const { return (layer - 1) * n_ + k; }

    // The tokens reachable from the source in layers L-1 .. 1 (edges of positive capacity), the
    // compacted capacities among them, zero flow and the source's edges saturated.
    void set_up(int source) {
        const size_t S = size_t(S_);
        char* now = &reached_[0];         // (S): reachable in the current layer
        char* below = &reached_[S];       // (S): reachable one layer down
        char* in_any = &reached_[2 * S];  // (S): reachable in some layer
        std::fill(reached_.begin(), reached_.end(), 0);
        const double* top = layer_caps(L_) + size_t(source) * S;
        for (size_t k = 0; k < S; ++k) now[k] = top[k] > 0;
        for (int l = L_ - 1;; --l) {
            for (size_t k = 0; k < S; ++k) in_any[k] |= now[k];
            if (l == 1) break;
            const double* a = layer_caps(l);
            std::fill(below, below + S, 0);
            for (size_t u = 0; u < S; ++u)
                if (now[u])
                    for (size_t v = 0; v < S; ++v) below[v] |= a[u * S + v] > 0;
            std::swap(now, below);
        }
        n_ = 0;
        for (int k = 0; k < S_; ++k)
            if (in_any[k]) live_[size_t(n_++)] = k;
        words_ = (n_ + 63) / 64;
        nodes_ = (L_ - 1) * n_;
        dead_ = nodes_ + 1;  // a node that can reach the sink is at most nodes_ edges from it
        const size_t n = size_t(n_), mats = size_t(std::max(L_ - 2, 0));
        std::fill_n(down_out_.begin(), mats * n * words_, 0);
        std::fill_n(down_in_.begin(), mats * n * words_, 0);
        std::fill_n(up_out_.begin(), mats * n * words_, 0);
        std::fill_n(up_in_.begin(), mats * n * words_, 0);
        for (int e = 2; e <= L_ - 1; ++e) {
            const double* a = layer_caps(e);
            Edge* row = &edges_[matrix(e)];
            for (int u = 0; u < n_; ++u)
                for (int v = 0; v < n_; ++v) {
                    const double value = a[size_t(live_[size_t(u)]) * S + size_t(live_[size_t(v)])];
                    row[size_t(u) * n + size_t(v)] = {value, 0.0};
                    if (value > kEps) {
                        set_bit(&down_out_[bit_row(e, u)], v);
                        set_bit(&down_in_[bit_row(e, v)], u);
                    }
                }
        }
        std::fill_n(label_bits_.begin(), size_t(L_ - 1) * size_t(nodes_ + 1) * words_, 0);
        std::fill_n(label_.begin(), nodes_, dead_);  // global_relabel clears only live labels
        std::fill_n(label_count_.begin(), nodes_ + 1, 0);
        top_label_ = 0;
        std::fill_n(sink_flow_.begin(), n, 0.0);
        std::fill_n(excess_.begin(), size_t(nodes_), 0.0);
        source_out_ = 0, value_ = 0;
        for (size_t k = 0; k < n; ++k) {
            excess_[size_t(node(L_ - 1, int(k)))] = top[live_[k]];
            source_out_ += top[live_[k]];
        }
    }

    // New capacities into the sink (column `sink` of A'_1); flow above them goes back to excess.
    // Returns the bound at which the flow is known to be maximal: the smaller of the source's
    // and the sink's total capacity, less the excess that may stay behind (eps per node).
    double set_sink(int sink) {
        const double* a = layer_caps(1);
        double sink_in = 0;
        for (int k = 0; k < n_; ++k) {
            const double cap = a[size_t(live_[size_t(k)]) * size_t(S_) + size_t(sink)];
            sink_cap_[size_t(k)] = cap;
            sink_in += cap;
            if (sink_flow_[size_t(k)] > cap) {
                excess_[size_t(node(1, k))] += sink_flow_[size_t(k)] - cap;
                value_ -= sink_flow_[size_t(k)] - cap;
                sink_flow_[size_t(k)] = cap;
            }
        }
        return std::min(source_out_, sink_in) - double(nodes_ + 1) * kEps;
    }

    void activate(int x) {
        const int d = label_[size_t(x)];
        next_active_[size_t(x)] = first_active_[size_t(d)];
        first_active_[size_t(d)] = x;
        highest_ = std::max(highest_, d);
    }

    void add_excess(int x, double amount) {
        const double before = excess_[size_t(x)];
        excess_[size_t(x)] = before + amount;
        if (before <= kEps && before + amount > kEps) activate(x);  // label < dead_ (pushed to)
    }

    void set_label(int x, int label) {
        const int layer = x / n_ + 1, k = x % n_, old = label_[size_t(x)];
        if (old < dead_) {
            clear_bit(labels_of(layer, old), k);
            --label_count_[size_t(old)];
        }
        label_[size_t(x)] = label;
        if (label < dead_) {
            set_bit(labels_of(layer, label), k);
            ++label_count_[size_t(label)];
            top_label_ = std::max(top_label_, label);
        }
    }

    // Flow changes on edge (e, u) -> (e - 1, v), keeping the residual bitsets in step.
    void push_down(Edge& edge, int e, int u, int v, double amount) {
        const double f = edge.flow += amount;
        if (edge.cap - f <= kEps) {
            clear_bit(&down_out_[bit_row(e, u)], v);
            clear_bit(&down_in_[bit_row(e, v)], u);
        }
        if (f > kEps) {
            set_bit(&up_out_[bit_row(e, v)], u);
            set_bit(&up_in_[bit_row(e, u)], v);
        }
    }
    void push_up(Edge& edge, int e, int u, int v, double amount) {  // cancels flow
        const double f = edge.flow -= amount;
        if (f <= kEps) {
            clear_bit(&up_out_[bit_row(e, v)], u);
            clear_bit(&up_in_[bit_row(e, u)], v);
        }
        if (edge.cap - f > kEps) {
            set_bit(&down_out_[bit_row(e, u)], v);
            set_bit(&down_in_[bit_row(e, v)], u);
        }
    }

    // Exact distances to the sink in the residual graph, by a backward breadth-first search;
    // nodes that cannot reach it get dead_. Rebuilds the active lists from the new labels.
    void global_relabel() {
        if (size_t(top_label_ + 1) * size_t(L_ - 1) * words_ <= size_t(nodes_)) {
            for (int l = 1; l <= L_ - 1; ++l)  // clear the label rows in use
                std::fill_n(labels_of(l, 0), size_t(top_label_ + 1) * words_, 0);
            std::fill_n(label_.begin(), nodes_, dead_);
            std::fill_n(label_count_.begin(), top_label_ + 1, 0);
        } else {
            for (int x = 0; x < nodes_; ++x) set_label(x, dead_);
        }
        top_label_ = 0;
        for (int l = 1; l <= L_ - 1; ++l) {
            Word* row = &unlabeled_[size_t(l - 1) * words_];
            std::fill_n(row, words_, ~Word(0));
            if (n_ % 64) row[words_ - 1] = (Word(1) << (n_ % 64)) - 1;
        }
        int tail = 0;
        for (int k = 0; k < n_; ++k)
            if (sink_cap_[size_t(k)] - sink_flow_[size_t(k)] > kEps) {
                set_label(k, 1);
                clear_bit(&unlabeled_[0], k);
                queue_[size_t(tail++)] = k;
            }
        for (int head = 0; head < tail; ++head) {
            const int v = queue_[size_t(head)];
            const int l = v / n_ + 1, t = v % n_, d = label_[size_t(v)] + 1;
            // Nodes above with room down to v, and nodes below that v sends flow to (their edge
            // back to v can cancel it).
            for (int side = 0; side < 2; ++side) {
                const int other = side == 0 ? l + 1 : l - 1;
                if (other < 1 || other > L_ - 1) continue;
                const Word* edges =
                    side == 0 ? &down_in_[bit_row(l + 1, t)] : &up_in_[bit_row(l, t)];
                Word* open = &unlabeled_[size_t(other - 1) * words_];
                for (int w = 0; w < words_; ++w)
                    for (Word bits = edges[w] & open[w]; bits; bits &= bits - 1) {
                        const int k = w * 64 + std::countr_zero(bits);
                        open[w] &= ~(Word(1) << (k & 63));
                        set_label(node(other, k), d);
                        queue_[size_t(tail++)] = node(other, k);
                    }
            }
        }
        std::fill_n(first_active_.begin(), size_t(nodes_) + 2, -1);
        std::fill_n(arc_.begin(), size_t(nodes_), 0);
        highest_ = 0;
        relabels_ = 0;
        for (int x = 0; x < nodes_; ++x)
            if (excess_[size_t(x)] > kEps && label_[size_t(x)] < dead_) activate(x);
    }

    // Pushes along the admissible edges (room left, label one lower) of x among `edges` from
    // position `from`, to the tokens of layer `other`. Returns where it stopped: n_ when no
    // admissible edge is left, else the edge that took the last of the excess.
    template <bool kDown>
    int push_along(int x, int l, int t, int from, const Word* edges, int other) {
        const Word* admissible = labels_of(other, label_[size_t(x)] - 1);
        double& excess = excess_[size_t(x)];
        for (int w = from >> 6; w < words_; ++w) {
            Word bits = edges[w] & admissible[w];
            if (w == from >> 6) bits &= ~Word(0) << (from & 63);
            for (; bits; bits &= bits - 1) {
                const int k = w * 64 + std::countr_zero(bits);
                Edge& edge = kDown ? edges_[matrix(l) + size_t(t) * size_t(n_) + size_t(k)]
                                   : edges_[matrix(l + 1) + size_t(k) * size_t(n_) + size_t(t)];
                const double amount = std::min(excess, kDown ? edge.cap - edge.flow : edge.flow);
                if (kDown)
                    push_down(edge, l, t, k, amount);
                else
                    push_up(edge, l + 1, k, t, amount);
                excess -= amount;
                add_excess(node(other, k), amount);
                if (excess <= kEps) return k;
            }
        }
        return n_;
    }

    // Pushes x's excess along admissible edges, relabelling when none is left, until the excess
    // is gone or x cannot reach the sink. Arc numbers: down first (n of them, or 1: the sink),
    // then up (n, below layer L - 1).
    void discharge(int x) {
        const int l = x / n_ + 1, t = x % n_;
        const int down_arcs = l == 1 ? 1 : n_;
        double& excess = excess_[size_t(x)];
        while (excess > kEps) {
            int a = arc_[size_t(x)];
            if (a < down_arcs) {
                if (l == 1) {
                    const double room = sink_cap_[size_t(t)] - sink_flow_[size_t(t)];
                    if (label_[size_t(x)] == 1 && room > kEps) {
                        const double amount = std::min(excess, room);
                        sink_flow_[size_t(t)] += amount;
                        value_ += amount;
                        excess -= amount;
                        if (excess <= kEps) return;
                    }
                } else {
                    a = push_along<true>(x, l, t, a, &down_out_[bit_row(l, t)], l - 1);
                    if (excess <= kEps) {
                        arc_[size_t(x)] = a;
                        return;
                    }
                }
                a = down_arcs;
            }
            if (l <= L_ - 2) {
                const int w =
                    push_along<false>(x, l, t, a - down_arcs, &up_out_[bit_row(l + 1, t)], l + 1);
                if (excess <= kEps) {
                    arc_[size_t(x)] = down_arcs + w;
                    return;
                }
            }
            relabel(x, l, t);
            if (label_[size_t(x)] >= dead_) return;
        }
    }

    // Raises x's label to one more than the lowest over its residual edges, or dead_ when it has
    // none. If that leaves no node at x's old label, the nodes above it cannot reach the sink
    // either (a path to the sink steps down at most one label per edge): they die at once.
    void relabel(int x, int l, int t) {
        ++relabels_;
        arc_[size_t(x)] = 0;
        const int old = label_[size_t(x)];
        set_label(x, std::min(lowest_neighbour(l, t, old) + 1, dead_));
        if (label_count_[size_t(old)] > 0) return;
        for (int layer = 1; layer <= L_ - 1; ++layer)
            for (int d = old + 1; d <= top_label_; ++d) {
                const Word* row = labels_of(layer, d);
                for (int w = 0; w < words_; ++w)
                    for (Word bits = row[w]; bits; bits &= bits - 1)  // a copy: set_label edits row
                        set_label(node(layer, w * 64 + std::countr_zero(bits)), dead_);
            }
    }

    // The lowest label over the residual edges of node (l, t), dead_ when it has none. No
    // neighbour is below `label` - 1 (labels stay valid) and, when relabelling, none is at it (no
    // admissible edge left), so the search starts at `label`.
    int lowest_neighbour(int l, int t, int label) {
        if (l == 1 && sink_cap_[size_t(t)] - sink_flow_[size_t(t)] > kEps) return 0;
        const Word* down = l >= 2 ? &down_out_[bit_row(l, t)] : nullptr;
        const Word* up = l <= L_ - 2 ? &up_out_[bit_row(l + 1, t)] : nullptr;
        for (int d = label; d < std::min(label + kLabelProbes, dead_); ++d)
            for (int w = 0; w < words_; ++w)
                if ((down && (down[w] & labels_of(l - 1, d)[w])) ||
                    (up && (up[w] & labels_of(l + 1, d)[w])))
                    return d;
        int lowest = dead_;  // every neighbour is further up: look at each one
        for (int side = 0; side < 2; ++side) {
            const Word* edges = side == 0 ? down : up;
            if (!edges) continue;
            const int* labels = &label_[size_t(node(side == 0 ? l - 1 : l + 1, 0))];
            for (int w = 0; w < words_; ++w)
                for (Word bits = edges[w]; bits; bits &= bits - 1)
                    lowest = std::min(lowest, labels[w * 64 + std::countr_zero(bits)]);
        }
        return lowest;
    }
};

}  // namespace

std::vector<double> max_flow_values(std::span<const double> capacities, int layers, int seq,
                                    int threads) {
    const size_t S = size_t(seq);
    if (layers <= 0 || seq <= 0 || capacities.size() != size_t(layers) * S * S)
        throw Error("flow: capacities do not hold " + std::to_string(layers) + " layers of " +
                    std::to_string(seq) + " x " + std::to_string(seq) + " (" +
                    std::to_string(capacities.size()) + " values)");
    if (threads <= 0)
        throw Error("flow: " + std::to_string(threads) + " threads (expected at least 1)");
    for (double c : capacities)
        if (!(c >= 0 && std::isfinite(c)))
            throw Error(
                "flow: a capacity is negative or not finite (expected maps of values >= 0)");
    std::vector<double> flows(S * S);  // (S, S)
    const int workers = std::min(threads, seq);
    std::vector<SourceSolver> solvers;  // allocated here: a failure throws on the caller's thread
    solvers.reserve(size_t(workers));
    for (int w = 0; w < workers; ++w) solvers.emplace_back(capacities, layers, seq);
    std::atomic<int> next_source{0};
    const auto work = [&](SourceSolver& solver) {
        for (int i; (i = next_source.fetch_add(1)) < seq;)
            solver.solve(i, std::span<double>(&flows[size_t(i) * S], S));
    };
    std::vector<std::jthread> helpers;
    for (int w = 1; w < workers; ++w) helpers.emplace_back(work, std::ref(solvers[size_t(w)]));
    work(solvers[0]);
    return flows;
}

std::vector<float> attention_flow(std::span<const float> maps, int layers, int heads, int seq,
                                  HeadFusion fusion, double discard_ratio, int threads) {
    const std::vector<double> residual =
        residual_attention(maps, layers, heads, seq, fusion, discard_ratio, "flow");
    const std::vector<double> flows = max_flow_values(residual, layers, seq, threads);
    const size_t S = size_t(seq);
    std::vector<float> out(S * S);  // (S, S)
    for (size_t i = 0; i < S; ++i) {
        double sum = 0;
        for (size_t j = 0; j < S; ++j) sum += flows[i * S + j];
        for (size_t j = 0; j < S; ++j) out[i * S + j] = sum > 0 ? float(flows[i * S + j] / sum) : 0;
    }
    return out;
}

}  // namespace headmap::analysis
