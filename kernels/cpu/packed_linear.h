// Projections for short inputs on the dispatched panel kernels (kernels/cpu/isa.h), from the
// weights in place where their layout allows it, else from a copy repacked into panels.
//
// Why: OpenBLAS repacks its operand on every sgemm call. For a sentence of ~20 tokens that copy
// of the whole weight matrix costs about as much as the product (perf on a MiniLM corpus run:
// sgemm_incopy 41% of CPU). A (K, N) weight (GPT-2's Conv1D) already is a set of 16-column panels
// with row stride N, so for short inputs the kernels stream it where it is mapped: nothing is
// copied. Other weights, and longer inputs (where the strided rows fall behind), use a copy
// repacked once into (ceil(N/16), K, 16) panels, by the engine, layer by layer when an input
// first needs it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/thread_pool.h"
#include "kernels/types.h"

namespace headmap::cpu {

// The rows up to which the panel kernels beat OpenBLAS with the table in use, from packed
// panels and from weights read in place.
inline int panel_max_rows() {
    return kernels().panel_max_rows;
}
inline int in_place_max_rows() {
    return kernels().in_place_max_rows;
}

// One projection weight as (ceil(N/16), K, 16) panels: panel p holds output columns 16p..16p+15,
// k-major, zero past N. 64-byte aligned.
class PackedWeight {
  public:
    PackedWeight() = default;
    // weight is (K, N) for InOut, (N, K) for OutIn. The pool's threads share the panels.
    PackedWeight(ThreadPool& pool, std::span<const float> weight, int K, int N,
                 WeightLayout layout);

    int k() const { return k_; }
    int n() const { return n_; }
    int panels() const { return (n_ + kPanelWidth - 1) / kPanelWidth; }
    bool empty() const { return !data_; }
    const float* panel(int p) const { return data_.get() + size_t(p) * k_ * kPanelWidth; }
    size_t bytes() const { return size_t(panels()) * k_ * kPanelWidth * sizeof(float); }
    PanelWeights view() const {
        return {data_.get(), size_t(k_) * kPanelWidth, size_t(kPanelWidth)};
    }

  private:
    struct AlignedDelete {
        void operator()(float* p) const;
    };
    int k_ = 0, n_ = 0;
    std::unique_ptr<float[], AlignedDelete> data_;
};

// Whether a weight of this layout and width can be read in place as panels: (K, N) with N a
// multiple of 16.
inline bool panels_in_place(WeightLayout layout, int N) {
    return layout == WeightLayout::InOut && N % kPanelWidth == 0;
}
// A (K, N) weight read in place (panels_in_place must hold), 64 rows of K at a time.
constexpr int kInPlaceKBlock = 64;
inline PanelWeights in_place_panels(std::span<const float> weight, int N) {
    return {weight.data(), size_t(kPanelWidth), size_t(N), kInPlaceKBlock};
}

// out (S, N) = epilogue(in (S, K) · W + bias), W as panels. Same contract as cpu::linear; threads
// split the panels. Allocates nothing.
void linear_panels(ThreadPool& pool, std::span<float> out, std::span<const float> in,
                   const PanelWeights& weight, std::span<const float> bias, int S, int K, int N,
                   Epilogue epilogue);

inline void linear_packed(ThreadPool& pool, std::span<float> out, std::span<const float> in,
                          const PackedWeight& weight, std::span<const float> bias, int S,
                          Epilogue epilogue) {
    linear_panels(pool, out, in, weight.view(), bias, S, weight.k(), weight.n(), epilogue);
}

}  // namespace headmap::cpu
