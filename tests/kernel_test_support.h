// Helpers for kernel tests: random inputs, guarded output buffers and max-abs comparison.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/thread_pool.h"

namespace kernel_test {

using headmap::Epilogue;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
// Written around every output buffer to catch writes outside [0, n).
constexpr float kGuard = -12345.5f;
constexpr size_t kGuardFloats = 64;

inline std::vector<float> random_normal(size_t n, float mean, float stddev, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(mean, stddev);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// A float buffer of n values with kGuardFloats guard values on both sides.
struct Guarded {
    std::vector<float> storage;
    size_t n;
    explicit Guarded(size_t n_, float fill = kNaN) : storage(n_ + 2 * kGuardFloats, kGuard), n(n_) {
        std::fill_n(storage.begin() + kGuardFloats, n, fill);
    }
    std::span<float> span() { return {storage.data() + kGuardFloats, n}; }
    float* data() { return storage.data() + kGuardFloats; }
    bool guards_intact() const {
        for (size_t i = 0; i < kGuardFloats; ++i)
            if (storage[i] != kGuard || storage[kGuardFloats + n + i] != kGuard) return false;
        return true;
    }
};

struct Diff {
    double max_abs = 0;    // largest |a - b| (inf when either side is NaN)
    double magnitude = 0;  // largest |b|
    size_t where = 0;
};

inline Diff compare(std::span<const float> a, std::span<const float> b) {
    REQUIRE(a.size() == b.size());
    Diff d;
    for (size_t i = 0; i < a.size(); ++i) {
        double e = std::isnan(a[i]) || std::isnan(b[i]) ? INFINITY : std::fabs(double(a[i]) - b[i]);
        if (e > d.max_abs) d.max_abs = e, d.where = i;
        d.magnitude = std::max(d.magnitude, std::fabs(double(b[i])));
    }
    return d;
}

inline const char* name(Epilogue e) {
    switch (e) {
        case Epilogue::Store:
            return "Store";
        case Epilogue::Accumulate:
            return "Accumulate";
        case Epilogue::GeluTanh:
            return "GeluTanh";
        case Epilogue::GeluErf:
            return "GeluErf";
    }
    return "?";
}

// A fast linear under test: out (S, N) = epilogue(in (S, K) · weight + bias), as cpu::linear.
using LinearFn = void (*)(headmap::cpu::ThreadPool& pool, std::span<float> out,
                          std::span<const float> in, std::span<const float> weight,
                          std::span<const float> bias, int S, int K, int N,
                          headmap::WeightLayout layout, Epilogue epilogue);

// Checks `fast` against reference::linear for every S x K x N, both layouts, every epilogue,
// with and without bias, on pools of 1, 2 and 3 threads; output buffers are guarded and start as
// NaN (Store and GELU must overwrite them) or random values (Accumulate adds). Returns the
// number of cases checked.
inline int check_linear_cases(LinearFn fast, std::span<const int> shapes_S,
                              std::span<const int> shapes_K, std::span<const int> shapes_N) {
    using namespace headmap;
    const Epilogue epilogues[] = {Epilogue::Store, Epilogue::Accumulate, Epilogue::GeluTanh,
                                  Epilogue::GeluErf};
    cpu::ThreadPool pool1(1), pool2(2), pool3(3);
    cpu::ThreadPool* pools[] = {&pool1, &pool2, &pool3};
    uint32_t seed = 1;
    int checked = 0;
    for (int S : shapes_S)
        for (int K : shapes_K)
            for (int N : shapes_N)
                for (WeightLayout layout : {WeightLayout::InOut, WeightLayout::OutIn}) {
                    const auto in = random_normal(size_t(S) * K, 0.0f, 1.0f, seed++);
                    const auto weight = random_normal(size_t(K) * N, 0.0f, 1.0f, seed++);
                    const auto bias_values = random_normal(size_t(N), 0.5f, 1.0f, seed++);
                    const auto initial = random_normal(size_t(S) * N, 0.0f, 3.0f, seed++);
                    for (Epilogue epilogue : epilogues)
                        for (bool with_bias : {true, false}) {
                            const std::span<const float> bias =
                                with_bias ? std::span<const float>(bias_values)
                                          : std::span<const float>{};
                            const bool acc = epilogue == Epilogue::Accumulate;
                            std::vector<float> expected =
                                acc ? initial : std::vector<float>(initial.size(), kNaN);
                            reference::linear(expected, in, weight, bias, S, K, N, layout,
                                              epilogue);
                            for (cpu::ThreadPool* pool : pools) {
                                Guarded out(size_t(S) * N);
                                if (acc) std::copy(initial.begin(), initial.end(), out.data());
                                fast(*pool, out.span(), in, weight, bias, S, K, N, layout,
                                     epilogue);
                                const Diff d = compare(out.span(), expected);
                                INFO("S=" << S << " K=" << K << " N=" << N
                                          << " epilogue=" << name(epilogue) << " layout="
                                          << (layout == WeightLayout::InOut ? "InOut" : "OutIn")
                                          << " bias=" << with_bias << " threads=" << pool->size()
                                          << " max_abs=" << d.max_abs << " at " << d.where);
                                CHECK(d.max_abs <= 1e-4 * std::max(1.0, d.magnitude));
                                CHECK(out.guards_intact());
                                ++checked;
                            }
                        }
                }
    return checked;
}

// Runs body(table) once per kernel table this CPU supports (kernels/cpu/isa.h), with that table
// in use, and puts the previous one back. Returns how many ran.
template <class Fn>
int for_each_kernel_table(Fn&& body) {
    using namespace headmap;
    const cpu::KernelTable& before = cpu::kernels();
    struct Restore {
        const cpu::KernelTable& table;
        ~Restore() { cpu::use_kernels(table); }
    } restore{before};
    int ran = 0;
    for (const cpu::KernelTable* table : cpu::supported_kernels()) {
        cpu::use_kernels(*table);
        INFO("kernels: " << table->name);
        body(*table);
        ++ran;
    }
    return ran;
}

}  // namespace kernel_test
