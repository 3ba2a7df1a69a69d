// The threading around the panel kernels, and the repacking of (N, K) weights into panels.
#include "kernels/cpu/packed_linear.h"

#include <algorithm>
#include <new>

namespace headmap::cpu {
namespace {

constexpr size_t kPanelAlign = 64;  // a cache line: each panel row of 16 floats is one line

}  // namespace

void PackedWeight::AlignedDelete::operator()(float* p) const {
    ::operator delete[](p, std::align_val_t{kPanelAlign});
}

PackedWeight::PackedWeight(ThreadPool& pool, std::span<const float> weight, int K, int N,
                           WeightLayout layout)
    : k_(K), n_(N) {
    const size_t floats = size_t(panels()) * K * kPanelWidth;
    data_.reset(static_cast<float*>(::operator new[](std::max<size_t>(floats, 1) * sizeof(float),
                                                     std::align_val_t{kPanelAlign})));
    const int count = panels(), slices = std::max(1, std::min(pool.size(), count));
    pool.run(slices, [&](int slice, int) {
        const int p0 = int(int64_t(count) * slice / slices);
        const int p1 = int(int64_t(count) * (slice + 1) / slices);
        float* out = data_.get() + size_t(p0) * K * kPanelWidth;
        for (int p = p0; p < p1; ++p)
            for (int k = 0; k < K; ++k)
                for (int j = 0; j < kPanelWidth; ++j) {
                    const int n = p * kPanelWidth + j;
                    float value = 0.0f;
                    if (n < N)
                        value = layout == WeightLayout::InOut ? weight[size_t(k) * N + n]
                                                              : weight[size_t(n) * K + k];
                    *out++ = value;
                }
    });
}

void linear_panels(ThreadPool& pool, std::span<float> out, std::span<const float> in,
                   const PanelWeights& weight, std::span<const float> bias, int S, int K, int N,
                   Epilogue epilogue) {
    const KernelTable& table = kernels();
    const int panels = (N + kPanelWidth - 1) / kPanelWidth;
    // Slices on whole kernel steps, so that every thread runs full-width tiles.
    const int group = table.panel_group;
    const int groups = (panels + group - 1) / group;
    const int slices = std::max(1, std::min(pool.size(), groups));
    const LinearPanelsArgs args{.out = out.data(),
                                .in = in.data(),
                                .bias = bias.empty() ? nullptr : bias.data(),
                                .weight = weight,
                                .S = S,
                                .K = K,
                                .N = N,
                                .epilogue = epilogue};
    pool.run(slices, [&](int slice, int) {
        const int p0 = int(int64_t(groups) * slice / slices) * group;
        const int p1 = std::min(panels, int(int64_t(groups) * (slice + 1) / slices) * group);
        if (p0 < p1) table.linear_panels(args, p0, p1);
    });
}

}  // namespace headmap::cpu
