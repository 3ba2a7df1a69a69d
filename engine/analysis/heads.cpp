#include "engine/analysis/heads.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "headmap/error.hpp"

namespace headmap::analysis {
namespace {

void check_matrix(std::span<const double> x, int n, int d, const char* what) {
    if (n < 1 || d < 1)
        throw Error(std::string(what) + ": need at least one row and one column (got " +
                    std::to_string(n) + " x " + std::to_string(d) + ")");
    if (x.size() != size_t(n) * size_t(d))
        throw Error(std::string(what) + ": " + std::to_string(n) + " x " + std::to_string(d) +
                    " features need " + std::to_string(size_t(n) * size_t(d)) + " values, got " +
                    std::to_string(x.size()));
    for (size_t i = 0; i < x.size(); ++i)
        if (!std::isfinite(x[i]))
            throw Error(std::string(what) + ": feature (" + std::to_string(i / size_t(d)) + ", " +
                        std::to_string(i % size_t(d)) + ") is not a finite number");
}

double euclidean(const double* a, const double* b, int d) {
    double sum = 0;
    for (int j = 0; j < d; ++j) sum += (a[j] - b[j]) * (a[j] - b[j]);
    return std::sqrt(sum);
}

// Index of pair (i, j), i != j, in the condensed (n (n - 1) / 2) distance matrix, as scipy's.
size_t condensed(size_t n, size_t i, size_t j) {
    if (i > j) std::swap(i, j);
    return n * i - i * (i + 1) / 2 + (j - i - 1);
}

// scipy's _hierarchy._ward, term for term, so heights round alike.
double ward_update(double d_xi, double d_yi, double d_xy, double size_x, double size_y,
                   double size_i) {
    const double t = 1.0 / (size_x + size_y + size_i);
    return std::sqrt((size_i + size_x) * t * d_xi * d_xi + (size_i + size_y) * t * d_yi * d_yi -
                     size_i * t * d_xy * d_xy);
}

// Union-find over the 2n - 1 cluster ids of a linkage (points, then one per merge).
struct LinkageUnionFind {
    std::vector<int> parent;
    int next;
    explicit LinkageUnionFind(int n) : parent(size_t(2 * n - 1)), next(n) {
        std::iota(parent.begin(), parent.end(), 0);
    }
    int find(int x) {
        int root = x;
        while (parent[size_t(root)] != root) root = parent[size_t(root)];
        while (parent[size_t(x)] != root) {  // path compression
            const int up = parent[size_t(x)];
            parent[size_t(x)] = root;
            x = up;
        }
        return root;
    }
    int merge(int x_root, int y_root) {
        parent[size_t(x_root)] = parent[size_t(y_root)] = next;
        return next++;
    }
};

}  // namespace

double percentile(std::span<const double> sorted, double q) {
    if (sorted.empty()) throw Error("percentile: no values");
    if (!(q >= 0 && q <= 100)) throw Error("percentile: q must be in [0, 100]");
    const double position = q / 100 * double(sorted.size() - 1);
    const size_t below = size_t(std::floor(position));
    if (below + 1 >= sorted.size()) return sorted.back();
    const double t = position - double(below), a = sorted[below], b = sorted[below + 1];
    // numpy's _lerp: from the nearer end, so t = 1 gives b exactly.
    return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

std::vector<double> robust_scale(std::span<const double> x, int n, int d) {
    check_matrix(x, n, d, "robust scaling");
    std::vector<double> out(x.begin(), x.end());
    std::vector<double> column(static_cast<size_t>(n));
    for (int j = 0; j < d; ++j) {
        for (int i = 0; i < n; ++i) column[size_t(i)] = x[size_t(i) * size_t(d) + size_t(j)];
        std::sort(column.begin(), column.end());
        const double median = percentile(column, 50);
        const double iqr = percentile(column, 75) - percentile(column, 25);
        const double scale = iqr > 0 ? iqr : 1.0;  // a zero IQR: only centred
        for (int i = 0; i < n; ++i) {
            double& v = out[size_t(i) * size_t(d) + size_t(j)];
            v = (v - median) / scale;
        }
    }
    return out;
}

std::vector<Merge> ward_linkage(std::span<const double> x, int n, int d) {
    check_matrix(x, n, d, "Ward linkage");
    const size_t N = size_t(n);
    std::vector<double> dist(N * (N - 1) / 2);  // condensed, as scipy's pdist
    for (size_t i = 0; i < N; ++i)
        for (size_t j = i + 1; j < N; ++j)
            dist[condensed(N, i, j)] = euclidean(&x[i * size_t(d)], &x[j * size_t(d)], d);

    // Nearest-neighbour chain (scipy's nn_chain): slot s always holds the cluster that contains
    // point s; size 0 marks a slot merged away.
    std::vector<int> size(N, 1), chain;
    chain.reserve(N);
    std::vector<Merge> merges;
    merges.reserve(N - 1);
    for (size_t step = 0; step + 1 < N; ++step) {
        if (chain.empty()) {
            for (size_t i = 0; i < N; ++i)
                if (size[i] > 0) {
                    chain.push_back(int(i));
                    break;
                }
        }
        int x_slot = 0, y_slot = 0;
        double current_min = 0;
        for (;;) {
            x_slot = chain.back();
            if (chain.size() > 1) {
                y_slot = chain[chain.size() - 2];
                current_min = dist[condensed(N, size_t(x_slot), size_t(y_slot))];
            } else {
                current_min = std::numeric_limits<double>::infinity();
            }
            for (size_t i = 0; i < N; ++i) {
                if (size[i] == 0 || int(i) == x_slot) continue;
                const double di = dist[condensed(N, size_t(x_slot), i)];
                if (di < current_min) {
                    current_min = di;
                    y_slot = int(i);
                }
            }
            if (chain.size() > 1 && y_slot == chain[chain.size() - 2]) break;
            chain.push_back(y_slot);
        }
        chain.pop_back();
        chain.pop_back();
        if (x_slot > y_slot) std::swap(x_slot, y_slot);
        const int nx = size[size_t(x_slot)], ny = size[size_t(y_slot)];
        merges.push_back({x_slot, y_slot, current_min, nx + ny});
        size[size_t(x_slot)] = 0;
        size[size_t(y_slot)] = nx + ny;
        for (size_t i = 0; i < N; ++i) {  // the merged cluster lives in slot y
            const int ni = size[i];
            if (ni == 0 || int(i) == y_slot) continue;
            double& d_yi = dist[condensed(N, i, size_t(y_slot))];
            d_yi =
                ward_update(dist[condensed(N, i, size_t(x_slot))], d_yi, current_min, nx, ny, ni);
        }
    }

    // The chain finds merges out of height order: sort them (stably) and name the clusters
    // n, n + 1, ... in that order, smaller id first, as scipy's label() does.
    std::stable_sort(merges.begin(), merges.end(),
                     [](const Merge& a, const Merge& b) { return a.height < b.height; });
    LinkageUnionFind uf(n);
    for (Merge& m : merges) {
        const int a = uf.find(m.a), b = uf.find(m.b);
        m.a = std::min(a, b);
        m.b = std::max(a, b);
        uf.merge(a, b);
    }
    return merges;
}

std::vector<int> cut_clusters(std::span<const Merge> merges, int n, int k) {
    if (n < 1 || merges.size() != size_t(n - 1))
        throw Error("cluster cut: a linkage of " + std::to_string(n) + " points has " +
                    std::to_string(std::max(n - 1, 0)) + " merges, got " +
                    std::to_string(merges.size()));
    if (k < 1 || k > n)
        throw Error("cluster cut: k = " + std::to_string(k) + " clusters of " + std::to_string(n) +
                    " points (expected 1..n)");
    LinkageUnionFind uf(n);
    for (size_t i = 0; i < size_t(n - k); ++i) {
        const Merge& m = merges[i];
        if (m.a < 0 || m.b < 0 || m.a >= uf.next || m.b >= uf.next || m.a == m.b)
            throw Error("cluster cut: merge " + std::to_string(i) + " joins clusters " +
                        std::to_string(m.a) + " and " + std::to_string(m.b) +
                        " (expected two formed before it)");
        uf.merge(uf.find(m.a), uf.find(m.b));
    }
    std::vector<int> labels(static_cast<size_t>(n)), label_of_root(size_t(2 * n - 1), -1);
    int next = 0;
    for (int i = 0; i < n; ++i) {
        int& label = label_of_root[size_t(uf.find(i))];
        if (label < 0) label = next++;
        labels[size_t(i)] = label;
    }
    return labels;
}

std::vector<int> cluster_medoids(std::span<const double> x, int n, int d,
                                 std::span<const int> labels, int k) {
    check_matrix(x, n, d, "medoids");
    if (labels.size() != size_t(n))
        throw Error("medoids: " + std::to_string(labels.size()) + " labels for " +
                    std::to_string(n) + " points");
    std::vector<std::vector<int>> members(size_t(std::max(k, 0)));
    for (int i = 0; i < n; ++i) {
        const int c = labels[size_t(i)];
        if (c < 0 || c >= k)
            throw Error("medoids: label " + std::to_string(c) + " outside 0.." +
                        std::to_string(k - 1));
        members[size_t(c)].push_back(i);
    }
    std::vector<int> medoids;
    for (int c = 0; c < k; ++c) {
        const std::vector<int>& m = members[size_t(c)];
        if (m.empty()) throw Error("medoids: cluster " + std::to_string(c) + " has no members");
        int best = m.front();
        double best_sum = std::numeric_limits<double>::infinity();
        for (int i : m) {
            double sum = 0;
            for (int j : m)
                sum += euclidean(&x[size_t(i) * size_t(d)], &x[size_t(j) * size_t(d)], d);
            if (sum < best_sum) best_sum = sum, best = i;  // members ascend: ties keep the lowest
        }
        medoids.push_back(best);
    }
    return medoids;
}

std::vector<int> rank_by(std::span<const double> values, bool ascending) {
    std::vector<int> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        const double va = values[size_t(a)], vb = values[size_t(b)];
        const bool fa = std::isfinite(va), fb = std::isfinite(vb);
        if (fa != fb) return fa;  // non-finite last
        if (!fa) return false;
        return ascending ? va < vb : va > vb;
    });
    return order;
}

Eigen symmetric_eigen(std::span<const double> a_in, int d) {
    if (d < 1 || a_in.size() != size_t(d) * size_t(d))
        throw Error("eigen-decomposition: expected a square " + std::to_string(d) + " x " +
                    std::to_string(d) + " matrix");
    const size_t D = size_t(d);
    std::vector<double> a(a_in.begin(), a_in.end()), v(D * D, 0.0);  // v: eigenvectors as columns
    for (size_t i = 0; i < D; ++i) v[i * D + i] = 1.0;
    double total = 0;
    for (double e : a) total += e * e;
    for (int sweep = 0; sweep < 100; ++sweep) {
        double off = 0;
        for (size_t p = 0; p < D; ++p)
            for (size_t q = p + 1; q < D; ++q) off += a[p * D + q] * a[p * D + q];
        // Quadratic convergence: once the off-diagonal is at rounding level, one more sweep
        // changes nothing measurable.
        if (off == 0 || off <= 1e-34 * total) break;
        for (size_t p = 0; p < D; ++p)
            for (size_t q = p + 1; q < D; ++q) {
                const double apq = a[p * D + q];
                if (apq == 0) continue;
                const double theta = (a[q * D + q] - a[p * D + p]) / (2 * apq);
                // The smaller root of t^2 + 2 theta t - 1 = 0 (rotation angle <= pi/4).
                const double t = std::fabs(theta) > 1e150
                                     ? 0.5 / theta
                                     : std::copysign(1.0, theta) /
                                           (std::fabs(theta) + std::sqrt(theta * theta + 1));
                const double c = 1 / std::sqrt(t * t + 1), s = t * c;
                for (size_t k = 0; k < D; ++k) {  // A <- A J (columns p, q)
                    const double akp = a[k * D + p], akq = a[k * D + q];
                    a[k * D + p] = c * akp - s * akq;
                    a[k * D + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < D; ++k) {  // A <- J^T A (rows p, q)
                    const double apk = a[p * D + k], aqk = a[q * D + k];
                    a[p * D + k] = c * apk - s * aqk;
                    a[q * D + k] = s * apk + c * aqk;
                }
                a[p * D + q] = a[q * D + p] = 0;  // annihilated exactly, by construction
                for (size_t k = 0; k < D; ++k) {
                    const double vkp = v[k * D + p], vkq = v[k * D + q];
                    v[k * D + p] = c * vkp - s * vkq;
                    v[k * D + q] = s * vkp + c * vkq;
                }
            }
    }
    std::vector<size_t> order(D);
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t i, size_t j) { return a[i * D + i] > a[j * D + j]; });
    Eigen out{std::vector<double>(D), std::vector<double>(D * D)};
    for (size_t r = 0; r < D; ++r) {
        const size_t col = order[r];
        out.values[r] = a[col * D + col];
        size_t largest = 0;
        for (size_t k = 0; k < D; ++k)
            if (std::fabs(v[k * D + col]) > std::fabs(v[largest * D + col])) largest = k;
        const double sign = v[largest * D + col] < 0 ? -1.0 : 1.0;
        for (size_t k = 0; k < D; ++k) out.vectors[r * D + k] = sign * v[k * D + col];
    }
    return out;
}

Pca2 pca2(std::span<const double> x, int n, int d) {
    check_matrix(x, n, d, "PCA");
    const size_t N = size_t(n), D = size_t(d);
    std::vector<double> centred(x.begin(), x.end()), mean(D, 0.0);
    for (size_t i = 0; i < N; ++i)
        for (size_t j = 0; j < D; ++j) mean[j] += x[i * D + j];
    for (double& m : mean) m /= double(N);
    for (size_t i = 0; i < N; ++i)
        for (size_t j = 0; j < D; ++j) centred[i * D + j] -= mean[j];
    std::vector<double> cov(D * D, 0.0);  // (d, d)
    const double divisor = double(std::max<size_t>(N - 1, 1));
    for (size_t j = 0; j < D; ++j)
        for (size_t k = j; k < D; ++k) {
            double sum = 0;
            for (size_t i = 0; i < N; ++i) sum += centred[i * D + j] * centred[i * D + k];
            cov[j * D + k] = cov[k * D + j] = sum / divisor;
        }
    double trace = 0;
    for (size_t j = 0; j < D; ++j) trace += cov[j * D + j];
    const Eigen eigen = symmetric_eigen(cov, d);

    Pca2 out{std::vector<double>(N * 2, 0.0), std::vector<double>(2 * D, 0.0), {0, 0}};
    const size_t components = std::min<size_t>(2, D);
    for (size_t c = 0; c < components; ++c) {
        std::copy_n(&eigen.vectors[c * D], D, &out.components[c * D]);
        out.explained[c] = trace > 0 ? std::max(eigen.values[c], 0.0) / trace : 0.0;
        for (size_t i = 0; i < N; ++i) {
            double score = 0;
            for (size_t j = 0; j < D; ++j) score += centred[i * D + j] * eigen.vectors[c * D + j];
            out.scores[i * 2 + c] = score;
        }
    }
    return out;
}

}  // namespace headmap::analysis
