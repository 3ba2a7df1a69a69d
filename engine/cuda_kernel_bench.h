// The attention kernels head to head at one shape, for `headmap bench --device cuda`: the fused
// kernel (F32 and F16 maps) against the unfused baseline a framework runs eagerly (cuBLAS scores,
// a plain row softmax, cuBLAS P·V; cuda::Blas::attention_baseline), on random Q, K and V. Plain
// C++ header, so the CLI builds the same without the toolkit (then it throws).
#pragma once

#include <vector>

#include "kernels/types.h"

namespace headmap {

// Each kernel's milliseconds, one entry per timed run (device events), and a check that the
// fused kernel and the baseline compute the same attention.
struct AttentionKernelTimes {
    std::vector<double> fused_ms;      // fused kernel, F32 maps
    std::vector<double> fused_f16_ms;  // fused kernel, F16 maps
    std::vector<double> baseline_ms;   // cuBLAS + softmax_rows + cuBLAS, exact FP32
    double map_bytes = 0;              // bytes of one set of F32 maps, H * S * S * 4
    double max_abs_maps = 0;           // fused vs baseline F32 maps: both must be the same softmax
    double max_abs_ctx = 0;            // fused vs baseline P·V
};

// Times each kernel `runs` times after one warm-up. Throws headmap::Error without CUDA.
AttentionKernelTimes bench_attention_kernels(const AttentionShape& shape, int runs);

}  // namespace headmap
