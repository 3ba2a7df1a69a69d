// Automatic key-region detection, after IzzyViz's find_attention_regions_with_merging, and the
// view that outlines the regions on the heatmap.
//
// The algorithm (parameters from RegionOptions; IzzyViz's names in brackets):
//  1. Seeds. Visit cells by value, descending (ties: row-major order; non-finite cells never
//     seed). Accept a cell unless an accepted seed lies within `min_distance` of it in both row
//     and column. Stop at 3 * n_seeds. The first n_seeds become 1x1 rectangles; the rest wait in
//     a queue. (Only the top 3 n (2 d + 1)^2 cells can matter: each seed blocks at most
//     (2 d + 1)^2 cells, so a partial sort replaces IzzyViz's full argsort.)
//  2. Score of a rectangle: m_in = mean inside, m_b = mean of the one-cell ring around it
//     (clipped at the map's edges; corners counted once), s = ln(1 + area) / 10;
//     score = m_in * (m_in / m_b) * (1 + s), or m_in * (1 + s) when the ring is empty or m_b = 0.
//  3. Rounds (at most `max_rounds`; IzzyViz: until nothing changes, capped at 1000). Each live
//     rectangle in turn tries growing by 1..3 cells towards each of the four sides (clipped at
//     the edges). A candidate qualifies if score > expansion_threshold * peak.
//  4. A qualifying candidate that overlaps or comes near (gap in index units <=
//     `proximity_threshold` along both axes, IzzyViz's rectangles_nearby) other rectangles is
//     merged with all of them if, for each, std(bounding box of the two) <=
//     (size-weighted mean of their two stds) / merge_threshold (population stds). The merged
//     rectangle is the bounding box of the candidate and the neighbours; each absorbed rectangle
//     is replaced by the next queued seed.
//  5. When no rectangle changes in a round, stop. If fewer than n_seeds remain, queued seeds
//     fill up as 1x1 rectangles. Sorted by mean value, descending (ties: position).
//
// Where headmap chose differently from IzzyViz's code, and why:
//  - Growing while the score falls. IzzyViz compares each candidate with a running "best" that
//    every accepted candidate lowers (new_score > best * threshold, then best = new_score), so a
//    chain of small drops, within a round and across rounds, can grow a rectangle over the whole
//    map. Here the bar is the rectangle's *peak*: the highest score it has had since it was
//    seeded or last merged. A candidate may score lower than the current rectangle (that
//    tolerance is what lets a seed cross a dip, the threshold's purpose), but never below
//    threshold * peak, so the total decline is bounded by (1 - threshold) of the best score.
//  - Among qualifying candidates the highest score wins (IzzyViz: the last one to pass its
//    moving bar, an artefact of the loop order). Ties: top, left, bottom, right; 1..3 steps.
//  - When a candidate would have to merge and a merge is refused, the next-best qualifying
//    candidate is tried (IzzyViz gives up growing that rectangle for the round, so a rectangle
//    next to an unmergeable neighbour could never grow away from it).
//  - The merge test and the merged box use the expanded candidate (IzzyViz tests and merges the
//    rectangle from before the expansion, discarding the expansion it just chose).
//  - Two perfectly uniform rectangles (both stds 0) merge when their bounding box is uniform too
//    (IzzyViz divides by zero, gets infinity, and never merges them, so seeds inside one flat
//    block stay apart).
//  - A queued seed that already lies inside a live rectangle is skipped (IzzyViz re-seeds it,
//    producing a rectangle inside another).
#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <string>

#include "headmap/error.hpp"
#include "viz/table_lens.h"
#include "viz/views.h"

namespace headmap::viz {
namespace {

using Rect = CellRegion;

bool same(const Rect& a, const Rect& b) {
    return a.r0 == b.r0 && a.c0 == b.c0 && a.r1 == b.r1 && a.c1 == b.c1;
}
bool contains(const Rect& a, int r, int c) {
    return r >= a.r0 && r <= a.r1 && c >= a.c0 && c <= a.c1;
}
bool overlap(const Rect& a, const Rect& b) {
    return !(a.c1 < b.c0 || b.c1 < a.c0 || a.r1 < b.r0 || b.r1 < a.r0);
}
bool nearby(const Rect& a, const Rect& b, int threshold) {
    const int h = std::max(0, std::max(a.c0, b.c0) - std::min(a.c1, b.c1));
    const int v = std::max(0, std::max(a.r0, b.r0) - std::min(a.r1, b.r1));
    return h <= threshold && v <= threshold;
}
Rect bbox(const Rect& a, const Rect& b) {
    return {std::min(a.r0, b.r0), std::min(a.c0, b.c0), std::max(a.r1, b.r1), std::max(a.c1, b.c1)};
}
long area(const Rect& a) {
    return long(a.r1 - a.r0 + 1) * long(a.c1 - a.c0 + 1);
}

// Prefix sums of v and v^2 (non-finite cells count as 0), for O(1) rectangle statistics.
class Sums {
  public:
    explicit Sums(const MapView& m) : rows_(m.rows), cols_(m.cols) {
        const size_t w = size_t(cols_) + 1;
        s_.assign((size_t(rows_) + 1) * w, 0.0);
        q_.assign(s_.size(), 0.0);
        for (int r = 0; r < rows_; ++r) {
            double row_s = 0, row_q = 0;
            for (int c = 0; c < cols_; ++c) {
                const double v = std::isfinite(m.at(r, c)) ? m.at(r, c) : 0.0;
                row_s += v;
                row_q += v * v;
                s_[(size_t(r) + 1) * w + size_t(c) + 1] = s_[size_t(r) * w + size_t(c) + 1] + row_s;
                q_[(size_t(r) + 1) * w + size_t(c) + 1] = q_[size_t(r) * w + size_t(c) + 1] + row_q;
            }
        }
    }
    // Inclusive ranges; empty (r0 > r1 or c0 > c1) gives 0.
    double sum(int r0, int c0, int r1, int c1) const { return box(s_, r0, c0, r1, c1); }
    double sq(int r0, int c0, int r1, int c1) const { return box(q_, r0, c0, r1, c1); }
    int rows() const { return rows_; }
    int cols() const { return cols_; }

  private:
    double box(const std::vector<double>& p, int r0, int c0, int r1, int c1) const {
        if (r0 > r1 || c0 > c1) return 0;
        const size_t w = size_t(cols_) + 1;
        auto at = [&](int r, int c) { return p[size_t(r) * w + size_t(c)]; };
        return at(r1 + 1, c1 + 1) - at(r0, c1 + 1) - at(r1 + 1, c0) + at(r0, c0);
    }
    int rows_, cols_;
    std::vector<double> s_, q_;
};

double mean_of(const Sums& s, const Rect& a) {
    return s.sum(a.r0, a.c0, a.r1, a.c1) / double(area(a));
}
double std_of(const Sums& s, const Rect& a) {
    const double n = double(area(a)), m = s.sum(a.r0, a.c0, a.r1, a.c1) / n;
    return std::sqrt(std::max(0.0, s.sq(a.r0, a.c0, a.r1, a.c1) / n - m * m));
}

double score_of(const Sums& s, const Rect& a) {
    const double m_in = mean_of(s, a);
    const int cl = std::max(0, a.c0 - 1), cr = std::min(s.cols() - 1, a.c1 + 1);
    double ring = 0;
    long count = 0;
    if (a.r0 > 0) {
        ring += s.sum(a.r0 - 1, cl, a.r0 - 1, cr);
        count += cr - cl + 1;
    }
    if (a.r1 < s.rows() - 1) {
        ring += s.sum(a.r1 + 1, cl, a.r1 + 1, cr);
        count += cr - cl + 1;
    }
    if (a.c0 > 0) {
        ring += s.sum(a.r0, a.c0 - 1, a.r1, a.c0 - 1);
        count += a.r1 - a.r0 + 1;
    }
    if (a.c1 < s.cols() - 1) {
        ring += s.sum(a.r0, a.c1 + 1, a.r1, a.c1 + 1);
        count += a.r1 - a.r0 + 1;
    }
    const double size_factor = std::log1p(double(area(a))) / 10;
    const double m_b = count > 0 ? ring / double(count) : 0.0;
    if (m_b == 0) return m_in * (1 + size_factor);
    return m_in * (m_in / m_b) * (1 + size_factor);
}

// Sink columns: those taking, on average over the rows, at least max(0.2, 4 / cols) of a row's
// attention (BERT's [CLS] and [SEP], GPT-2's first token). None when that would be half the map.
std::vector<char> sink_columns(const MapView& map) {
    std::vector<char> sink(size_t(map.cols), 0);
    const double bar = std::max(0.2, 4.0 / map.cols);
    int count = 0;
    for (int c = 0; c < map.cols; ++c) {
        double sum = 0;
        for (int r = 0; r < map.rows; ++r)
            if (std::isfinite(map.at(r, c))) sum += map.at(r, c);
        if (sum / map.rows >= bar) sink[size_t(c)] = 1, ++count;
    }
    if (2 * count >= map.cols) std::fill(sink.begin(), sink.end(), 0);
    return sink;
}

std::vector<FoundRegion> find_regions_on(const MapView& map, const RegionOptions& o);

}  // namespace

std::vector<FoundRegion> find_regions(const MapView& map, const RegionOptions& o) {
    detail::check_map(map, "find regions");
    if (o.n_seeds < 1 || o.min_distance < 0 || o.proximity_threshold < 0 || o.max_rounds < 0 ||
        !(o.expansion_threshold > 0) || !(o.merge_threshold > 0)) {
        throw Error(
            "find regions: n_seeds must be >= 1, min_distance, proximity_threshold and max_rounds "
            ">= 0, expansion_threshold and merge_threshold > 0");
    }
    const std::vector<char> sink = o.skip_sinks ? sink_columns(map) : std::vector<char>{};
    if (std::find(sink.begin(), sink.end(), 1) == sink.end()) return find_regions_on(map, o);
    // The search runs on the map with its sink columns left out (missing cells: they never
    // seed and count as 0), so that structure among the other tokens is found at all. (Rows
    // renormalised over the rest would lift the rows that gave the sink the most, and merge the
    // whole remainder into one region.) Means are the map's own.
    std::vector<float> rest(map.values.begin(), map.values.end());
    for (int r = 0; r < map.rows; ++r)
        for (int c = 0; c < map.cols; ++c)
            if (sink[size_t(c)]) rest[size_t(r) * size_t(map.cols) + size_t(c)] = NAN;
    std::vector<FoundRegion> found = find_regions_on(MapView{rest, map.rows, map.cols}, o);
    const Sums sums(map);
    for (FoundRegion& f : found) f.mean = float(mean_of(sums, f.cells));
    std::stable_sort(found.begin(), found.end(),
                     [](const FoundRegion& a, const FoundRegion& b) { return a.mean > b.mean; });
    return found;
}

namespace {

std::vector<FoundRegion> find_regions_on(const MapView& map, const RegionOptions& o) {
    constexpr int kMaxSteps = 3;  // IzzyViz's max_expansion_steps
    const Sums sums(map);
    const int rows = map.rows, cols = map.cols;
    double scale = 0;
    for (float v : map.values) {
        if (std::isfinite(v)) scale = std::max(scale, double(std::fabs(v)));
    }
    const double eps = 1e-7 * std::max(scale, 1e-30);

    // 1. Seeds.
    const size_t n = map.values.size(), want = size_t(o.n_seeds) * 3;
    const size_t block = size_t(2 * std::min(o.min_distance, std::max(rows, cols)) + 1);
    const size_t k = std::min(n, want * block * block);
    auto key = [&](int i) {
        const float v = map.values[size_t(i)];
        return std::isfinite(v) ? v : -INFINITY;
    };
    std::vector<int> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = int(i);
    std::partial_sort(order.begin(), order.begin() + ptrdiff_t(k), order.end(),
                      [&](int a, int b) { return key(a) > key(b) || (key(a) == key(b) && a < b); });
    std::vector<std::pair<int, int>> seeds;
    for (size_t i = 0; i < k && seeds.size() < want; ++i) {
        if (!std::isfinite(map.values[size_t(order[i])])) break;
        const int r = order[i] / cols, c = order[i] % cols;
        bool ok = true;
        for (auto [sr, sc] : seeds) {
            if (std::abs(sr - r) <= o.min_distance && std::abs(sc - c) <= o.min_distance) {
                ok = false;
                break;
            }
        }
        if (ok) seeds.emplace_back(r, c);
    }
    std::vector<std::optional<Rect>> slots;
    std::vector<double> peak;
    std::deque<std::pair<int, int>> queue;
    for (size_t i = 0; i < seeds.size(); ++i) {
        const auto [r, c] = seeds[i];
        if (i < size_t(o.n_seeds)) {
            slots.push_back(Rect{r, c, r, c});
            peak.push_back(score_of(sums, *slots.back()));
        } else {
            queue.emplace_back(r, c);
        }
    }
    auto pop_seed = [&]() -> std::optional<Rect> {
        while (!queue.empty()) {
            const auto [r, c] = queue.front();
            queue.pop_front();
            bool inside = false;
            for (const auto& s : slots) inside = inside || (s && contains(*s, r, c));
            if (!inside) return Rect{r, c, r, c};
        }
        return std::nullopt;
    };
    auto should_merge = [&](const Rect& a, const Rect& b) {
        const double sa = std_of(sums, a), sb = std_of(sums, b);
        const double na = double(area(a)), nb = double(area(b));
        const double weighted = (sa * na + sb * nb) / (na + nb);
        const double merged = std_of(sums, bbox(a, b));
        if (weighted <= eps) return merged <= eps;
        return merged / weighted <= 1.0 / o.merge_threshold;
    };

    // 3-4. Rounds of growth and merging.
    for (int round = 0; round < o.max_rounds; ++round) {
        bool changed = false;
        for (size_t i = 0; i < slots.size(); ++i) {
            if (!slots[i]) continue;
            const Rect cur = *slots[i];
            peak[i] = std::max(peak[i], score_of(sums, cur));
            std::vector<std::pair<double, Rect>> candidates;
            for (int dir = 0; dir < 4; ++dir) {
                for (int step = 1; step <= kMaxSteps; ++step) {
                    Rect c = cur;
                    if (dir == 0) c.r0 = std::max(0, cur.r0 - step);
                    if (dir == 1) c.c0 = std::max(0, cur.c0 - step);
                    if (dir == 2) c.r1 = std::min(rows - 1, cur.r1 + step);
                    if (dir == 3) c.c1 = std::min(cols - 1, cur.c1 + step);
                    if (same(c, cur)) continue;
                    bool seen = false;
                    for (const auto& [s, prev] : candidates) seen = seen || same(prev, c);
                    if (seen) continue;
                    const double s = score_of(sums, c);
                    if (s > o.expansion_threshold * peak[i]) candidates.emplace_back(s, c);
                }
            }
            std::stable_sort(candidates.begin(), candidates.end(),
                             [](const auto& a, const auto& b) { return a.first > b.first; });
            for (const auto& [s, cand] : candidates) {
                std::vector<size_t> near;
                for (size_t j = 0; j < slots.size(); ++j) {
                    if (j != i && slots[j] &&
                        (overlap(cand, *slots[j]) ||
                         nearby(cand, *slots[j], o.proximity_threshold))) {
                        near.push_back(j);
                    }
                }
                if (near.empty()) {
                    slots[i] = cand;
                    changed = true;
                    break;
                }
                bool ok = true;
                for (size_t j : near) ok = ok && should_merge(cand, *slots[j]);
                if (!ok) continue;
                Rect merged = cand;
                for (size_t j : near) {
                    merged = bbox(merged, *slots[j]);
                    slots[j].reset();
                }
                slots[i] = merged;
                peak[i] = score_of(sums, merged);  // a new rectangle: a fresh history
                for (size_t m = 0; m < near.size(); ++m) {
                    const std::optional<Rect> seed = pop_seed();
                    if (!seed) break;
                    for (size_t j = 0; j < slots.size(); ++j) {
                        if (!slots[j]) {
                            slots[j] = seed;
                            peak[j] = score_of(sums, *seed);
                            break;
                        }
                    }
                }
                changed = true;
                break;
            }
        }
        if (!changed) break;
    }

    // 5. Fill up and sort.
    std::vector<Rect> live;
    for (const auto& s : slots) {
        if (s) live.push_back(*s);
    }
    while (live.size() < size_t(o.n_seeds)) {
        const std::optional<Rect> seed = pop_seed();
        if (!seed) break;
        slots.push_back(seed);
        live.push_back(*seed);
    }
    std::vector<FoundRegion> out;
    for (const Rect& r : live) {
        out.push_back(FoundRegion{r, float(mean_of(sums, r)), float(score_of(sums, r))});
    }
    std::stable_sort(out.begin(), out.end(), [](const FoundRegion& a, const FoundRegion& b) {
        if (a.mean != b.mean) return a.mean > b.mean;
        if (a.cells.r0 != b.cells.r0) return a.cells.r0 < b.cells.r0;
        return a.cells.c0 < b.cells.c0;
    });
    return out;
}

}  // namespace

Scene regions(const Font& font, const MapView& map, std::span<const FoundRegion> found,
              std::span<const std::string> row_tokens, std::span<const std::string> col_tokens,
              const HeatmapOptions& options) {
    using namespace detail;
    Lens lens = lens_from_options(map, row_tokens, col_tokens, options, "regions");
    for (const FoundRegion& f : found) {
        const CellRegion& g = f.cells;
        if (g.r0 < 0 || g.c0 < 0 || g.r0 > g.r1 || g.c0 > g.c1 || g.r1 >= map.rows ||
            g.c1 >= map.cols) {
            throw Error("regions: a found region lies outside the " + std::to_string(map.rows) +
                        "x" + std::to_string(map.cols) + " map");
        }
    }
    if (lens.title.empty()) lens.title = "Attention with detected regions";
    constexpr Color kOrange{255, 127, 14, 255}, kOrangeBox{255, 127, 14, 200};
    auto overlay = [&](Scene& scene, const LensLayout& L) {
        const float size = std::clamp(0.6f * L.cell, 8.0f, 12.0f);
        for (size_t k = 0; k < found.size(); ++k) {
            const CellRegion& g = found[k].cells;
            RectItem box;
            box.x = L.col_edges[size_t(g.c0)];
            box.y = L.row_edges[size_t(g.r0)];
            box.w = L.col_edges[size_t(g.c1) + 1] - box.x;
            box.h = L.row_edges[size_t(g.r1) + 1] - box.y;
            box.stroke = kOrange;
            box.stroke_width = 2;
            scene.items.emplace_back(box);
            // The badge sits outside the box, over its top-left corner (under its bottom-left
            // one for a box on the first row), so the cells it names stay visible; inside only
            // when the box spans every row.
            std::string name = std::string("R").append(std::to_string(k + 1));
            const float bw = font.text_width(name, size, true) + 4, bh = size * 1.25f;
            const float bx = std::max(L.grid_x, std::min(box.x, L.grid_x + L.grid_w - bw));
            float by = box.y - bh - 1;
            if (by < L.grid_y) by = box.y + box.h + 1;
            if (by + bh > L.grid_y + L.grid_h) by = box.y + 1;
            scene.items.emplace_back(RectItem{bx, by, bw, bh, kOrangeBox});
            scene.items.emplace_back(TextItem{std::move(name), bx + 2, by + 0.5f * bh, size, kWhite,
                                              Anchor::Start, Baseline::Middle, 0, true});
        }
    };
    return single_panel(font, lens, options.colorbar, overlay);
}

}  // namespace headmap::viz
