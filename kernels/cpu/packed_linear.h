// Projections for short inputs from weights repacked once, at load.
//
// Why: OpenBLAS repacks its operand on every sgemm call. For a sentence of ~20 tokens that copy
// of the whole weight matrix costs about as much as the product (perf on a MiniLM corpus run:
// sgemm_incopy 41% of CPU). Here each weight is repacked once into panels of 16 output columns,
// and a 6x16 register-tiled kernel (AVX2+FMA where the build has it, plain loops otherwise)
// streams the panels in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "kernels/cpu/ops.h"
#include "kernels/cpu/thread_pool.h"
#include "kernels/types.h"

namespace headmap::cpu {

constexpr int kPanelWidth = 16;  // output columns per panel: two 8-float vectors
// Inputs with up to this many rows use linear_packed; longer ones use OpenBLAS, whose cache
// blocking wins there. Measured on the 2-core EPYC (AVX2), MiniLM and GPT-2 projection shapes,
// 1 thread: packed 60-80 GF/s vs OpenBLAS 46-50 at S=21, 22 vs 5 at S=1, level (0.95-1.13x) at
// S=128, behind by up to 10% from S=512.
constexpr int kPackedMaxRows = 128;

// One projection weight as (ceil(N/16), K, 16) panels: panel p holds output columns 16p..16p+15,
// k-major, zero past N. 64-byte aligned.
class PackedWeight {
  public:
    PackedWeight() = default;
    // weight is (K, N) for InOut, (N, K) for OutIn.
    PackedWeight(std::span<const float> weight, int K, int N, WeightLayout layout);

    int k() const { return k_; }
    int n() const { return n_; }
    int panels() const { return (n_ + kPanelWidth - 1) / kPanelWidth; }
    bool empty() const { return !data_; }
    const float* panel(int p) const { return data_.get() + size_t(p) * k_ * kPanelWidth; }
    size_t bytes() const { return size_t(panels()) * k_ * kPanelWidth * sizeof(float); }

  private:
    struct AlignedDelete {
        void operator()(float* p) const;
    };
    int k_ = 0, n_ = 0;
    std::unique_ptr<float[], AlignedDelete> data_;
};

// out (S, N) = epilogue(in (S, K) · W + bias), W given packed. Same contract as cpu::linear;
// threads split the panels. Allocates nothing.
void linear_packed(ThreadPool& pool, std::span<float> out, std::span<const float> in,
                   const PackedWeight& weight, std::span<const float> bias, int S,
                   Epilogue epilogue);

}  // namespace headmap::cpu
