// A branch-free natural logarithm for float, written as plain arithmetic that GCC vectorises
// inside loops (no intrinsics, no -ffast-math), for the entropy of attention maps.
// Accuracy (tests/test_head_stats.cpp checks it against std::log over the float range): log_fast
// is within 2.5e-7 relative of the exact value (8.1e-8 seen); log_parts' e ln 2 + ln m, summed in
// double, within 1e-7 absolute (2.2e-8 seen), so a * (e ln 2 + ln m) summed over a row that sums
// to 1 stays within ~2e-8 of the exact entropy.
//
// Compiled into each instruction set's kernels (kernels/cpu/isa/kernels_isa.cpp) as fast_math.h
// is: an inline namespace named by HEADMAP_ISA, and no standard-library templates.
#pragma once

#include <cstdint>

#ifndef HEADMAP_ISA
#define HEADMAP_ISA baseline
#endif

namespace headmap::cpu::fast_log {
inline namespace HEADMAP_ISA {

constexpr double kLn2 = 0.693147180559945309417232121458176568;
constexpr float kSmallestNormal = 1.17549435e-38f;  // FLT_MIN

// x = 2^e * m with m in [sqrt(1/2), sqrt(2)): returns ln(m) and sets `exponent` to e, so that
// ln(x) = e ln 2 + ln(m). x must be a positive normal float (callers clamp to kSmallestNormal).
// Cephes' logf: the mantissa as f = m - 1 in [-0.29, 0.41) (exact), a degree-9 polynomial.
// Integer tests and arithmetic instead of selects between floats: GCC 12 leaves those as
// branches, and a branch stops the loop around this from vectorising.
inline float log_parts(float x, int32_t& exponent) {
    const int32_t bits = __builtin_bit_cast(int32_t, x);
    const int32_t mantissa = bits & 0x007fffff;
    const int32_t low = mantissa < 0x3504f3 ? 1 : 0;  // m < sqrt(1/2) in [0.5, 1): use 2m
    exponent = ((bits >> 23) & 0xff) - 126 - low;     // x = 2^(e + low) * m
    const float m = __builtin_bit_cast(float, mantissa | 0x3f000000);  // m in [0.5, 1)
    const float f = m * float(1 + low) - 1.0f;                         // 2m - 1 or m - 1, exact
    const float z = f * f;
    float y = 7.0376836292e-2f;
    y = y * f - 1.1514610310e-1f;
    y = y * f + 1.1676998740e-1f;
    y = y * f - 1.2420140846e-1f;
    y = y * f + 1.4249322787e-1f;
    y = y * f - 1.6668057665e-1f;
    y = y * f + 2.0000714765e-1f;
    y = y * f - 2.4999993993e-1f;
    y = y * f + 3.3333331174e-1f;
    y = y * f * z;
    return f + (y - 0.5f * z);
}

// x clamped up to the smallest normal float, by its bits (0, denormals and negatives -> FLT_MIN).
inline float clamp_normal(float x) {
    const int32_t bits = __builtin_bit_cast(int32_t, x);
    return __builtin_bit_cast(float, bits < 0x00800000 ? 0x00800000 : bits);
}

// ln(x) for positive normal floats; x is clamped up to kSmallestNormal (so 0, denormals and
// negatives give ln(FLT_MIN) = -87.34). Cephes' split of ln 2 keeps e ln 2 + ln(m) within ~1 ulp.
inline float log_fast(float x) {
    int32_t e;
    const float p = log_parts(clamp_normal(x), e);
    const float ef = float(e);
    return (p - 2.12194440e-4f * ef) + 0.693359375f * ef;
}

// out[i] = log_fast(in[i]) (vectorised).
inline void log_array(const float* __restrict in, float* __restrict out, int n) {
    for (int i = 0; i < n; ++i) out[i] = log_fast(in[i]);
}

}  // namespace HEADMAP_ISA
}  // namespace headmap::cpu::fast_log
