// Attention around BLAS. One task = one head x one block of query rows:
//   scores = Q_blk K^T / sqrt(D)   (sgemm reading Q and K in place from qkv, no permute copy)
//   softmax per row over the allowed keys only; the causal triangle is written as 0, never computed
//   ctx_blk[:, head] = P_blk V      (sgemm writing straight into the context buffer)
// For causal models a block only multiplies keys up to its last row, so the upper triangle's
// arithmetic is skipped (up to one block's diagonal).

#include <algorithm>
#include <cmath>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/ops.h"

namespace headmap::cpu {

void softmax_row(float* row, int n) {
    kernels().softmax_row(row, n);
}

void attention(ThreadPool& pool, std::span<float> ctx, std::span<float> maps,
               std::span<float> scratch, std::span<const float> qkv, const AttentionShape& shape) {
    const int S = shape.seq, H = shape.n_head, D = shape.head_dim, C = H * D;
    const int blocks = (S + kAttentionRowBlock - 1) / kAttentionRowBlock;
    const float scale = 1.0f / std::sqrt(float(D));
    const size_t scratch_per_thread = scratch.size() / size_t(pool.size());
    const bool keep_maps = !maps.empty();
    const KernelTable& k = kernels();
    // Later row blocks attend to more keys; hand them out first so threads finish together.
    pool.run(H * blocks, [&](int task, int thread) {
        const int block = blocks - 1 - task / H;
        const int head = task % H;
        const int r0 = block * kAttentionRowBlock;
        const int rows = std::min(S, r0 + kAttentionRowBlock) - r0;
        const int keys = shape.causal ? r0 + rows : S;
        float* P;  // (rows, keys) with row stride ldp
        int ldp;
        if (keep_maps) {
            P = maps.data() + (size_t(head) * S + r0) * S;
            ldp = S;
        } else {
            P = scratch.data() + scratch_per_thread * thread;
            ldp = keys;
        }
        const float* Q = qkv.data() + size_t(r0) * 3 * C + head * D;
        const float* K = qkv.data() + C + head * D;
        const float* V = qkv.data() + 2 * C + head * D;
        blas::sgemm(blas::Transpose::No, blas::Transpose::Yes, rows, keys, D, scale, Q, 3 * C, K,
                    3 * C, 0.0f, P, ldp);
        for (int i = 0; i < rows; ++i) {
            float* row = P + size_t(i) * ldp;
            const int allowed = shape.causal ? r0 + i + 1 : S;
            k.softmax_row(row, allowed);
            std::fill(row + allowed, row + (keep_maps ? S : keys), 0.0f);
        }
        blas::sgemm(blas::Transpose::No, blas::Transpose::No, rows, D, keys, 1.0f, P, ldp, V, 3 * C,
                    0.0f, ctx.data() + size_t(r0) * C + head * D, C);
    });
}

}  // namespace headmap::cpu
