// Reference kernels: direct transcriptions of the math with double accumulators. Slow on
// purpose; the fast kernels are checked against these.
#include <cmath>
#include <vector>

#include "kernels/cpu/ops.h"

namespace headmap::reference {

void embed(std::span<float> x, const EmbeddingTables& tables, std::span<const int32_t> ids,
           std::span<const int32_t> type_ids, int C) {
    int counted = 0;  // tokens numbered so far
    for (size_t s = 0; s < ids.size(); ++s) {
        int position = tables.position_offset + int(s);
        if (tables.position_pad_id >= 0)
            position = ids[s] == tables.position_pad_id ? tables.position_offset - 1
                                                        : tables.position_offset + counted++;
        const int type = type_ids.empty() ? 0 : type_ids[s];
        for (int c = 0; c < C; ++c) {
            double sum = double(tables.token[size_t(ids[s]) * C + c]) +
                         double(tables.position[size_t(position) * C + c]);
            if (!tables.token_type.empty()) sum += tables.token_type[size_t(type) * C + c];
            x[s * C + c] = float(sum);
        }
    }
}

float gelu_tanh(float x) {
    const double k = std::sqrt(2.0 / M_PI);
    double xd = x;
    return float(0.5 * xd * (1.0 + std::tanh(k * (xd + 0.044715 * xd * xd * xd))));
}

float gelu_erf(float x) {
    return float(0.5 * double(x) * (1.0 + std::erf(double(x) / M_SQRT2)));
}

void linear(std::span<float> out, std::span<const float> in, std::span<const float> weight,
            std::span<const float> bias, int S, int K, int N, WeightLayout layout,
            Epilogue epilogue) {
    for (int s = 0; s < S; ++s) {
        for (int n = 0; n < N; ++n) {
            double acc = bias.empty() ? 0.0 : bias[n];
            for (int k = 0; k < K; ++k) {
                float w = layout == WeightLayout::InOut ? weight[size_t(k) * N + n]
                                                        : weight[size_t(n) * K + k];
                acc += double(in[size_t(s) * K + k]) * w;
            }
            float& o = out[size_t(s) * N + n];
            switch (epilogue) {
                case Epilogue::Store:
                    o = float(acc);
                    break;
                case Epilogue::Accumulate:
                    o = float(o + acc);
                    break;
                case Epilogue::GeluTanh:
                    o = gelu_tanh(float(acc));
                    break;
                case Epilogue::GeluErf:
                    o = gelu_erf(float(acc));
                    break;
            }
        }
    }
}

void layernorm(std::span<float> out, std::span<const float> in, std::span<const float> weight,
               std::span<const float> bias, int S, int C, float eps) {
    for (int s = 0; s < S; ++s) {
        const float* row = &in[size_t(s) * C];
        double mean = 0, var = 0;
        for (int c = 0; c < C; ++c) mean += row[c];
        mean /= C;
        for (int c = 0; c < C; ++c) var += (row[c] - mean) * (row[c] - mean);
        var /= C;
        double inv = 1.0 / std::sqrt(var + eps);
        for (int c = 0; c < C; ++c)
            out[size_t(s) * C + c] = float((row[c] - mean) * inv * weight[c] + bias[c]);
    }
}

void attention(std::span<float> ctx, std::span<float> maps, std::span<const float> qkv,
               const AttentionShape& shape) {
    const int S = shape.seq, H = shape.n_head, D = shape.head_dim, C = H * D;
    const double scale = 1.0 / std::sqrt(double(D));
    std::vector<double> scores(S);
    for (int h = 0; h < H; ++h) {
        float* map = &maps[size_t(h) * S * S];
        for (int i = 0; i < S; ++i) {
            const int allowed = shape.causal ? i + 1 : S;
            double max_score = -INFINITY;
            for (int j = 0; j < allowed; ++j) {
                double dot = 0;
                for (int d = 0; d < D; ++d)
                    dot += double(qkv[size_t(i) * 3 * C + h * D + d]) *
                           qkv[size_t(j) * 3 * C + C + h * D + d];
                scores[j] = dot * scale;
                max_score = std::max(max_score, scores[j]);
            }
            double sum = 0;
            for (int j = 0; j < allowed; ++j) sum += (scores[j] = std::exp(scores[j] - max_score));
            for (int j = 0; j < S; ++j)
                map[size_t(i) * S + j] = j < allowed ? float(scores[j] / sum) : 0.0f;
            for (int d = 0; d < D; ++d) {
                double acc = 0;
                for (int j = 0; j < allowed; ++j)
                    acc +=
                        double(map[size_t(i) * S + j]) * qkv[size_t(j) * 3 * C + 2 * C + h * D + d];
                ctx[size_t(i) * C + h * D + d] = float(acc);
            }
        }
    }
}

}  // namespace headmap::reference
