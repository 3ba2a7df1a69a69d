// Per-head attention statistics (analysis.h): the reference definition and the fast path.
//
// The fast path visits each row while it is in L1: an element-wise loop that GCC vectorises
// (the logarithm in float, kernels/cpu/fast_log.h; products and terms in double), then the sums in
// double lanes (kernels/cpu/isa: built per instruction set, picked at run time), so it agrees with
// the reference to ~1e-13 except the entropy (~1e-8, from the float logarithm of the mantissa).
// top5_mass needs the exact k-th largest of n allowed entries: a sample of the map gives a floor
// just below it (~7% of the entries pass), each row's entries at or above the floor are copied, and
// a radix select on their float bits (11 bits a round, from the highest bit in which they differ)
// finds the k-th largest among them, summing whatever lies above it on the way. Should the floor
// miss (rare; the result stays exact), a second pass copies every entry. Maps are shared out to
// threads one map per task.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <optional>
#include <thread>

#include "engine/analysis/analysis.h"
#include "engine/analysis/head_stats_internal.h"
#include "engine/engine.h"
#include "headmap/error.hpp"
#include "kernels/cpu/isa.h"

namespace headmap::analysis {

namespace {

void check_map_size(size_t values, size_t maps, int seq) {
    const size_t S = size_t(seq);
    if (seq <= 0 || values != maps * S * S)
        throw Error("head_stats: " + std::to_string(values) + " values are not " +
                    std::to_string(maps) + " maps of " + std::to_string(seq) + " x " +
                    std::to_string(seq));
}

}  // namespace

HeadStats head_stats_reference(std::span<const float> map, int seq, bool causal, double threshold) {
    check_map_size(map.size(), 1, seq);
    const size_t S = size_t(seq);
    HeadStats out;
    out.column_sums.assign(S, 0.0);
    std::vector<float> allowed_values;
    allowed_values.reserve(causal ? S * (S + 1) / 2 : S * S);
    int normalized_rows = 0;
    size_t below = 0, previous_rows = 0;
    double total = 0;
    for (size_t i = 0; i < S; ++i) {
        const float* row = &map[i * S];
        const size_t keys = causal ? i + 1 : S;
        double entropy = 0, distance = 0, local = 0, medium = 0, global = 0;
        for (size_t j = 0; j < keys; ++j) {
            const double a = row[j];
            allowed_values.push_back(row[j]);
            total += a;
            if (a > 0) entropy -= a * std::log(a);
            if (a < threshold) ++below;
            out.max = std::max(out.max, a);
            out.column_sums[j] += a;
            const size_t d = i > j ? i - j : j - i;
            distance += a * double(d);
            (d <= 1 ? local : d <= 3 ? medium : global) += a;
        }
        out.entropy += entropy;
        if (keys >= 2) {
            out.normalized_entropy += entropy / std::log(double(keys));
            ++normalized_rows;
        }
        out.first += row[0];
        out.self += row[i];
        if (i >= 1) out.previous += row[i - 1], ++previous_rows;
        out.distance += distance;
        out.local += local, out.medium += medium, out.global += global;
    }
    const double rows = double(S);
    out.entropy /= rows;
    out.normalized_entropy = normalized_rows ? out.normalized_entropy / normalized_rows : 0.0;
    out.sparsity = double(below) / double(allowed_values.size());
    out.first /= rows, out.self /= rows, out.distance /= rows;
    out.previous = previous_rows ? out.previous / double(previous_rows) : 0.0;
    out.local /= rows, out.medium /= rows, out.global /= rows;
    const size_t top = std::max<size_t>(1, size_t(std::ceil(0.05 * double(allowed_values.size()))));
    std::nth_element(allowed_values.begin(), allowed_values.begin() + std::ptrdiff_t(top - 1),
                     allowed_values.end(), std::greater<float>());
    double top_mass = 0;
    for (size_t k = 0; k < top; ++k) top_mass += allowed_values[k];
    out.top5_mass = total > 0 ? top_mass / total : 0.0;
    return out;
}

namespace {

// What every map of one sequence length shares (read-only across threads).
struct SeqTables {
    int seq = 0;
    std::vector<double> distance;  // (2S - 1): distance[S - 1 + d] = |d|, so row i's |j - i| is
                                   // the slice starting at S - 1 - i
    float threshold = 0;           // the smallest float >= the threshold: a < it <=> a < threshold
};

SeqTables make_tables(int seq, double threshold) {
    SeqTables t;
    t.seq = seq;
    t.distance.resize(size_t(2 * seq - 1));
    for (int k = 0; k < 2 * seq - 1; ++k) t.distance[size_t(k)] = std::abs(k - (seq - 1));
    t.threshold = float(threshold);
    if (double(t.threshold) < threshold)
        t.threshold = std::nextafter(t.threshold, std::numeric_limits<float>::infinity());
    return t;
}

// One thread's working memory, grown to the largest map it has seen.
struct Scratch {
    std::vector<float> candidates;                // 4 x (allowed / 4 + 3 S + 1) at most
    std::vector<double> columns;                  // (S)
    std::vector<double> mass, entropy, weighted;  // (S): one row's a, a ln a and a |i - j|
};

// One row's sums and the candidate copy run on the dispatched kernels (kernels/cpu/isa.h).
using RowSums = cpu::RowStatSums;

uint32_t order_key(float v) {  // a float's bits as an unsigned key in the same order
    const int32_t bits = std::bit_cast<int32_t>(v);
    return uint32_t(bits ^ ((bits >> 31) | int32_t(0x80000000)));
}

RowSums row_pass(const cpu::KernelTable& kernels, const float* row, int keys,
                 const double* distance, float threshold, bool column_sums, Scratch& scratch) {
    return kernels.row_stats(row, keys, distance, threshold,
                             column_sums ? scratch.columns.data() : nullptr, scratch.mass.data(),
                             scratch.entropy.data(), scratch.weighted.data());
}

// The entries at or above the floor, copied by four independent streams (a quarter of each row
// each, into its own region): one stream's store address waits on its own count, so four
// overlap where one would run at one entry per ~1.5 cycles.
struct Candidates {
    static constexpr int kStreams = 4;
    float* region[kStreams];
    size_t count[kStreams] = {};

    // Regions of `allowed` / 4 + 3 `seq` + 1 floats each in `buffer` (resized to fit): the last
    // stream also takes the up to 3 entries per row that do not split in four.
    Candidates(std::vector<float>& buffer, size_t allowed, int seq) {
        const size_t capacity = allowed / kStreams + 3 * size_t(seq) + 1;
        if (buffer.size() < kStreams * capacity) buffer.resize(kStreams * capacity);
        for (int r = 0; r < kStreams; ++r) region[r] = buffer.data() + size_t(r) * capacity;
    }
    void add_row(const cpu::KernelTable& kernels, const float* row, int keys, float floor) {
        kernels.copy_at_least(row, keys, floor, region, count);
    }
    // Moves every region's entries behind the first; returns their number.
    size_t gather() {
        size_t n = count[0];
        for (int r = 1; r < kStreams; ++r) {
            std::memmove(region[0] + n, region[r], count[r] * sizeof(float));
            n += count[r];
        }
        return n;
    }
};

// A value at or below the k-th largest of the map's allowed entries (almost surely), from a fixed
// pseudo-random sample: 512 runs of up to 16 consecutive allowed entries of a row (one cache line
// each, so the sample costs 512 memory reads, not 8192). Its entry at the rank that k/n predicts,
// plus a margin of 8 standard deviations (entries in one run are not independent; a generous
// floor only copies a few more entries), is the floor. Small maps copy every entry (-inf).
float candidate_floor(const float* map, int seq, bool causal, size_t k, size_t allowed) {
    constexpr int kRuns = 512, kRun = 16;
    if (allowed < 8 * size_t(kRuns * kRun)) return -std::numeric_limits<float>::infinity();
    std::vector<float> sample;
    sample.reserve(kRuns * kRun);
    for (uint64_t run = 0; run < kRuns; ++run) {
        uint64_t z = (run + 1) * 0x9e3779b97f4a7c15ull;  // splitmix64 of the run number
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        // Row and column from the two 32-bit halves, by multiply and shift (no division).
        uint64_t i = ((z >> 32) * uint64_t(seq)) >> 32;
        uint64_t j = ((z & 0xffffffffull) * uint64_t(seq)) >> 32;
        if (causal && j > i) std::swap(i, j);
        const uint64_t keys = causal ? i + 1 : uint64_t(seq);
        const uint64_t start = j - j % kRun;  // the aligned run holding (i, j)
        for (uint64_t c = start; c < std::min(keys, start + kRun); ++c) {
            const float a = map[i * uint64_t(seq) + c];
            sample.push_back(a == a ? a : -std::numeric_limits<float>::infinity());  // NaN: never
        }
    }
    const double expected = double(k) / double(allowed) * double(sample.size());
    const size_t rank =  // 1-based
        std::min(sample.size(), size_t(expected + 8.0 * std::sqrt(expected) + 16.0));
    std::nth_element(sample.begin(), sample.begin() + std::ptrdiff_t(rank - 1), sample.end(),
                     std::greater<float>());
    return sample[rank - 1];
}

}  // namespace

namespace detail {

// Radix rounds over the order keys, 11 bits at a time, starting at the highest bit in which the
// remaining keys differ (so the bins spread over the values actually present, and two rounds
// usually settle it): each round keeps the bin holding the k-th largest and adds up the bins
// above it, until the keys left are all equal.
double sum_of_largest(float* values, size_t n, size_t k) {
    if (k < 1 || k > n) throw Error("sum_of_largest: k must be in [1, n]");
    constexpr int kDigit = 11;
    uint32_t low = 0xffffffffu, high = 0;
    for (size_t i = 0; i < n; ++i) {
        const uint32_t key = order_key(values[i]);
        low = low < key ? low : key;
        high = high > key ? high : key;
    }
    double above = 0;
    uint32_t counts[1u << kDigit];
    while (low != high) {
        const int shift = std::max(0, int(std::bit_width(low ^ high)) - kDigit);
        const uint32_t base = low >> shift;  // the digit is (key >> shift) - base
        const uint32_t bins = (high >> shift) - base + 1;
        std::fill(counts, counts + bins, 0u);
        for (size_t i = 0; i < n; ++i) ++counts[(order_key(values[i]) >> shift) - base];
        uint32_t bin = bins - 1;
        size_t count_above = 0;
        while (count_above + counts[bin] < k) count_above += counts[bin--];
        size_t kept = 0;
        low = 0xffffffffu, high = 0;
        // Masks instead of conditions (GCC turns those into branches, and the tests are coin
        // flips), four partial sums (one chain of dependent adds is slow).
        double partial[4] = {};
        const auto step = [&](size_t i, double& sum) {
            const float v = values[i];
            const uint32_t key = order_key(v);
            const uint32_t digit = (key >> shift) - base;
            const uint32_t above_mask = 0u - uint32_t(digit > bin);
            const uint32_t keep_mask = 0u - uint32_t(digit == bin);
            sum += double(std::bit_cast<float>(std::bit_cast<uint32_t>(v) & above_mask));
            values[kept] = v;
            kept += keep_mask & 1u;
            low = std::min(low, key | ~keep_mask);
            high = std::max(high, key & keep_mask);
        };
        size_t i = 0;
        for (; i + 4 <= n; i += 4)
            for (int lane = 0; lane < 4; ++lane) step(i + size_t(lane), partial[lane]);
        for (; i < n; ++i) step(i, partial[0]);
        above += (partial[0] + partial[1]) + (partial[2] + partial[3]);
        n = kept;
        k -= count_above;
    }
    return above + double(k) * double(values[0]);  // what is left shares one key: the k-th
}

}  // namespace detail

namespace {

// `forced_floor` replaces the sampled floor (tests: a floor that misses, or none).
HeadStats fast_stats(const float* map, const SeqTables& tables, bool causal, bool column_sums,
                     Scratch& scratch, std::optional<float> forced_floor = std::nullopt) {
    const int S = tables.seq;
    const size_t allowed = causal ? size_t(S) * size_t(S + 1) / 2 : size_t(S) * size_t(S);
    const size_t top = std::max<size_t>(1, size_t(std::ceil(0.05 * double(allowed))));
    float floor = forced_floor ? *forced_floor : candidate_floor(map, S, causal, top, allowed);
    scratch.columns.assign(column_sums ? size_t(S) : 0, 0.0);
    for (std::vector<double>* row : {&scratch.mass, &scratch.entropy, &scratch.weighted})
        if (row->size() < size_t(S)) row->resize(size_t(S));
    Candidates candidates(scratch.candidates, allowed, S);
    const cpu::KernelTable& kernels = cpu::kernels();

    HeadStats out;
    double total = 0;
    int64_t below = 0;
    float max = 0;
    for (int i = 0; i < S; ++i) {
        const float* row = map + size_t(i) * size_t(S);
        const int keys = causal ? i + 1 : S;
        const double* distance = tables.distance.data() + (S - 1 - i);
        const RowSums sums =
            row_pass(kernels, row, keys, distance, tables.threshold, column_sums, scratch);
        candidates.add_row(kernels, row, keys, floor);
        total += sums.total;
        below += sums.below;
        max = std::max(max, sums.max);
        out.entropy += sums.entropy;
        if (keys >= 2) out.normalized_entropy += sums.entropy / std::log(double(keys));
        out.first += row[0];
        out.self += row[i];
        if (i >= 1) out.previous += row[i - 1];
        out.distance += sums.distance;
        // |i - j| <= 1 and 2..3 are a handful of entries; the rest of the row is global.
        double local = 0, medium = 0;
        for (int j = std::max(0, i - 3); j <= std::min(keys - 1, i + 3); ++j)
            (std::abs(i - j) <= 1 ? local : medium) += row[j];
        out.local += local, out.medium += medium;  // global: the total less these, below
    }
    if (column_sums)
        for (double column : scratch.columns) total += column;
    size_t copied = candidates.gather();
    if (copied < top && floor > -std::numeric_limits<float>::infinity()) {  // the floor missed
        floor = -std::numeric_limits<float>::infinity();
        candidates = Candidates(scratch.candidates, allowed, S);
        for (int i = 0; i < S; ++i)
            candidates.add_row(kernels, map + size_t(i) * size_t(S), causal ? i + 1 : S, floor);
        copied = candidates.gather();
    }
    const double rows = double(S);
    out.entropy /= rows;
    out.normalized_entropy = S >= 2 ? out.normalized_entropy / (causal ? rows - 1 : rows) : 0.0;
    out.sparsity = double(below) / double(allowed);
    out.max = max;
    out.first /= rows, out.self /= rows, out.distance /= rows;
    out.previous = S >= 2 ? out.previous / (rows - 1) : 0.0;
    out.global = (total - out.local - out.medium) / rows;
    out.local /= rows, out.medium /= rows;
    const size_t k = std::min(top, copied);  // fewer only when NaN entries were left out
    const double top_mass = k ? detail::sum_of_largest(candidates.region[0], copied, k) : 0.0;
    out.top5_mass = total > 0 ? top_mass / total : 0.0;
    if (column_sums) out.column_sums = scratch.columns;
    return out;
}

}  // namespace

HeadStats head_stats(std::span<const float> map, int seq, bool causal, double threshold) {
    check_map_size(map.size(), 1, seq);
    Scratch scratch;
    return fast_stats(map.data(), make_tables(seq, threshold), causal, true, scratch);
}

HeadStats detail::head_stats_with_floor(std::span<const float> map, int seq, bool causal,
                                        double threshold, float floor) {
    check_map_size(map.size(), 1, seq);
    Scratch scratch;
    return fast_stats(map.data(), make_tables(seq, threshold), causal, true, scratch, floor);
}

std::vector<HeadStats> all_head_stats(const std::vector<std::span<const float>>& maps, int seq,
                                      bool causal, double threshold, int threads,
                                      bool column_sums) {
    for (const std::span<const float>& map : maps) check_map_size(map.size(), 1, seq);
    const SeqTables tables = make_tables(seq, threshold);
    std::vector<HeadStats> results(maps.size());
    if (threads <= 0) threads = std::max(1, int(std::thread::hardware_concurrency()));
    threads = std::max(1, std::min(threads, int(maps.size())));
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
    const auto work = [&](int thread) {
        try {
            Scratch scratch;
            for (size_t m = next++; m < maps.size() && !failed; m = next++)
                results[m] = fast_stats(maps[m].data(), tables, causal, column_sums, scratch);
        } catch (...) {
            errors[size_t(thread)] = std::current_exception();
            failed = true;
        }
    };
    std::vector<std::jthread> helpers;
    for (int t = 1; t < threads; ++t) helpers.emplace_back(work, t);
    work(0);
    helpers.clear();  // joins
    for (const std::exception_ptr& error : errors)
        if (error) std::rethrow_exception(error);
    return results;
}

std::vector<HeadStats> all_head_stats(std::span<const float> maps, int n_maps, int seq, bool causal,
                                      double threshold, int threads, bool column_sums) {
    check_map_size(maps.size(), size_t(std::max(0, n_maps)), seq);
    const size_t per_map = size_t(seq) * size_t(seq);
    std::vector<std::span<const float>> views;
    for (int m = 0; m < n_maps; ++m) views.push_back(maps.subspan(size_t(m) * per_map, per_map));
    return all_head_stats(views, seq, causal, threshold, threads, column_sums);
}

const std::vector<std::string>& metric_names() {
    static const std::vector<std::string> names = {
        "entropy", "normalized_entropy", "sparsity", "max",    "first",  "previous",
        "self",    "distance",           "local",    "medium", "global", "top5_mass"};
    return names;
}

HeadStats to_head_stats(const DeviceHeadStats& d) {
    HeadStats s;
    s.entropy = d.entropy, s.normalized_entropy = d.normalized_entropy, s.sparsity = d.sparsity;
    s.max = d.max, s.first = d.first, s.previous = d.previous, s.self = d.self;
    s.distance = d.distance, s.local = d.local, s.medium = d.medium, s.global = d.global;
    s.top5_mass = d.top5_mass;
    s.column_sums = d.column_sums;
    return s;
}

std::vector<double> metric_values(const HeadStats& s) {
    return {s.entropy, s.normalized_entropy, s.sparsity, s.max,    s.first,  s.previous,
            s.self,    s.distance,           s.local,    s.medium, s.global, s.top5_mass};
}

double metric(const HeadStats& s, const std::string& name) {
    const auto& names = metric_names();
    for (size_t k = 0; k < names.size(); ++k)
        if (names[k] == name) return metric_values(s)[k];
    std::string known;
    for (const auto& n : names) {
        if (!known.empty()) known += ", ";
        known += n;
    }
    throw Error("unknown metric '" + name + "' (expected one of: " + known + ")");
}

}  // namespace headmap::analysis
