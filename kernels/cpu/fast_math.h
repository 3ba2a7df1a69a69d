// Branch-free float math written as plain loops that GCC vectorises (no intrinsics, no
// -ffast-math): partial sums/maxima in 8 lanes keep reductions vectorisable without letting the
// compiler reorder arithmetic on its own.
//
// Compiled into each instruction set's kernels (kernels/cpu/isa/kernels_isa.cpp), these functions
// live in an inline namespace named by HEADMAP_ISA there, so that the linker never merges an
// AVX-512 copy with the baseline one; and they use no standard-library templates for the same
// reason.
#pragma once

#include <cstdint>

#ifndef HEADMAP_ISA
#define HEADMAP_ISA baseline
#endif

namespace headmap::cpu::fast_math {
inline namespace HEADMAP_ISA {

constexpr int kLanes = 8;

// exp(x) for x in [-87, 88] (inputs outside are clamped): Cody-Waite range reduction and the
// Cephes degree-6 polynomial, ~2 ulp.
inline void exp_inplace(float* __restrict x, int n) {
    for (int i = 0; i < n; ++i) {
        float v = x[i];
        v = v < -87.0f ? -87.0f : v;  // selects, not std::min/max: keeps the loop branch-free
        v = v > 88.0f ? 88.0f : v;
        float nf = (v * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest
        float r = v - nf * 0.693359375f;
        r = r + nf * 2.12194440e-4f;
        float p = 1.9875691500e-4f;
        p = p * r + 1.3981999507e-3f;
        p = p * r + 8.3334519073e-3f;
        p = p * r + 4.1665795894e-2f;
        p = p * r + 1.6666665459e-1f;
        p = p * r + 5.0000001201e-1f;
        p = p * (r * r) + r + 1.0f;
        const float scale = __builtin_bit_cast(float, (static_cast<int32_t>(nf) + 127) << 23);
        x[i] = p * scale;
    }
}

inline float max_of(const float* __restrict x, int n) {
    float lanes[kLanes];
    for (int l = 0; l < kLanes; ++l) lanes[l] = -3.402823466e38f;
    int i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int l = 0; l < kLanes; ++l) lanes[l] = lanes[l] > x[i + l] ? lanes[l] : x[i + l];
    float m = lanes[0];
    for (int l = 1; l < kLanes; ++l) m = m < lanes[l] ? lanes[l] : m;  // std::max's order
    for (; i < n; ++i) m = m < x[i] ? x[i] : m;
    return m;
}

inline float sum_of(const float* __restrict x, int n) {
    float lanes[kLanes] = {};
    int i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int l = 0; l < kLanes; ++l) lanes[l] += x[i + l];
    float s = 0;
    for (int l = 0; l < kLanes; ++l) s += lanes[l];
    for (; i < n; ++i) s += x[i];
    return s;
}

}  // namespace HEADMAP_ISA
}  // namespace headmap::cpu::fast_math
