// Heads as points in metric space: robust scaling, Ward clustering with medoids, ranking by one
// metric and a 2-D PCA. Plain functions over raw row-major buffers; a feature matrix is (n, d):
// one row per head, one column per metric. Each function says which scipy/sklearn/numpy call it
// reproduces (tests/test_heads.cpp checks them against tools/reference/make_heads_fixtures.py).
#pragma once

#include <array>
#include <span>
#include <vector>

namespace headmap::analysis {

// numpy.percentile(values, q) with the default 'linear' method: sorted v, position
// p = q / 100 * (n - 1), v[floor p] interpolated towards v[floor p + 1]. `sorted` must be sorted
// ascending and non-empty; q in [0, 100].
double percentile(std::span<const double> sorted, double q);

// Robust scaling per column: (x - median) / IQR, IQR = the 75th minus the 25th percentile (as
// percentile() above). A column whose IQR is 0 (constant, or mostly one value) is only centred
// (divided by 1), as sklearn.preprocessing.RobustScaler does. x: (n, d), n >= 1, d >= 1, all
// finite (headmap::Error otherwise). Returns (n, d).
std::vector<double> robust_scale(std::span<const double> x, int n, int d);

// One merge of agglomerative clustering, a row of scipy's linkage matrix Z: clusters `a` < `b`
// (0..n-1 are the points, n + i the cluster made by merge i) joined at `height`, `size` points.
struct Merge {
    int a = 0, b = 0;
    double height = 0;
    int size = 0;
};

// Ward linkage of the rows of x (n, d), exactly scipy.cluster.hierarchy.linkage(x, 'ward'):
// Euclidean distances, the nearest-neighbour-chain algorithm with the Lance-Williams update
// d(k, i+j) = sqrt(((n_i + n_k) d(k,i)^2 + (n_j + n_k) d(k,j)^2 - n_k d(i,j)^2) /
// (n_i + n_j + n_k)), ties resolved as scipy does (the chain's previous cluster, then the lowest
// index), merges stably sorted by height and relabelled. n - 1 merges, heights non-decreasing.
// O(n^2) memory (the condensed distance matrix). headmap::Error for n < 1 or non-finite x.
std::vector<Merge> ward_linkage(std::span<const double> x, int n, int d);

// Flat clusters from a linkage: the first n - k merges applied, so exactly k clusters (1 <= k <=
// n, else headmap::Error). Labels 0..k-1 numbered in order of each cluster's lowest member (the
// cluster holding point 0 is 0). This is the partition of scipy's fcluster(Z, k, 'maxclust')
// whenever the merge heights at the cut differ; where merges n - k and n - k + 1 tie in height,
// fcluster returns fewer than k clusters and this still returns k.
std::vector<int> cut_clusters(std::span<const Merge> merges, int n, int k);

// Per cluster (labels 0..k-1, every label used): the member minimising the summed Euclidean
// distance to the cluster's other members, ties to the lowest index. Returns k point indices.
std::vector<int> cluster_medoids(std::span<const double> x, int n, int d,
                                 std::span<const int> labels, int k);

// Indices 0..n-1 ordered by value: descending (largest first), or ascending; ties by index.
// Non-finite values rank last either way.
std::vector<int> rank_by(std::span<const double> values, bool ascending);

// Symmetric eigen-decomposition by cyclic Jacobi rotations. a: (d, d) symmetric. Eigenvalues
// descending; eigenvectors as rows (d, d), row i belonging to eigenvalue i, unit length, each
// with its largest-|entry| (the first such) positive.
struct Eigen {
    std::vector<double> values;   // (d)
    std::vector<double> vectors;  // (d, d), rows
};
Eigen symmetric_eigen(std::span<const double> a, int d);

// Two-component PCA of x (n, d): columns centred, covariance X^T X / (n - 1) (n = 1: / 1),
// eigenvectors by symmetric_eigen. Components are the top two eigenvectors with the sign rule
// above (sklearn >= 1.5's svd_flip(u_based_decision=False) rule); scores = centred x times
// them; explained ratio = eigenvalue / trace (0 when every column is constant). With d = 1 the
// second component, its scores and its ratio are 0. headmap::Error for non-finite x or n, d < 1.
struct Pca2 {
    std::vector<double> scores;         // (n, 2)
    std::vector<double> components;     // (2, d), rows
    std::array<double, 2> explained{};  // explained-variance ratios
};
Pca2 pca2(std::span<const double> x, int n, int d);

}  // namespace headmap::analysis
