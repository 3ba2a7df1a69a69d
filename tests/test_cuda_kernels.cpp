// The CUDA kernels (headmap::cuda) against the CPU reference (headmap::reference): the fused
// attention (F32, F16 and no maps; every row-block size up to its sequence limit), the plain
// reference kernel and the unfused cuBLAS baseline, layernorm, the projection epilogues, the
// residual add and the embedding sum. Device outputs start as NaN bytes (0xFF) inside 0xFF guard
// bands, so an entry the kernel forgets fails the comparison and a write outside the buffer fails
// the guard check.
#include "cuda_test_main.h"  // first: defines DOCTEST_CONFIG_IMPLEMENT

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "headmap/error.hpp"
#include "kernel_test_support.h"
#include "kernels/cpu/ops.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"

using namespace headmap;
using namespace kernel_test;
namespace gpu = headmap::cuda;

namespace {

template <class T>
gpu::DeviceBuffer<T> upload(cudaStream_t stream, const std::vector<T>& host) {
    gpu::DeviceBuffer<T> buffer(host.size());
    gpu::check(cudaMemcpyAsync(buffer.data(), host.data(), host.size() * sizeof(T),
                               cudaMemcpyHostToDevice, stream),
               "cudaMemcpyAsync");
    return buffer;
}

// n elements of T between two guard bands of kGuard elements, all bytes 0xFF (NaN for float and
// for half). data() is the first of the n; `misalign` shifts it by one element (odd halves).
template <class T>
struct DeviceOut {
    static constexpr size_t kGuard = 64;
    gpu::DeviceBuffer<T> buffer;
    size_t n, offset;
    DeviceOut(cudaStream_t stream, size_t n_, bool misalign = false)
        : buffer(n_ + 2 * kGuard + 1), n(n_), offset(kGuard + (misalign ? 1 : 0)) {
        gpu::check(cudaMemsetAsync(buffer.data(), 0xFF, buffer.bytes(), stream), "cudaMemsetAsync");
    }
    T* data() const { return buffer.data() + offset; }
    // Synchronises the stream; returns the n elements; *guards_ok: the bands are untouched.
    std::vector<T> download(const gpu::Stream& stream, bool* guards_ok) const {
        std::vector<T> all(buffer.size());
        gpu::check(cudaMemcpyAsync(all.data(), buffer.data(), buffer.bytes(),
                                   cudaMemcpyDeviceToHost, stream.get()),
                   "cudaMemcpyAsync");
        stream.synchronize();
        const auto* bytes = reinterpret_cast<const unsigned char*>(all.data());
        const auto untouched = [](const unsigned char* first, const unsigned char* last) {
            return std::all_of(first, last, [](unsigned char b) { return b == 0xFF; });
        };
        *guards_ok = untouched(bytes, bytes + offset * sizeof(T)) &&
                     untouched(bytes + (offset + n) * sizeof(T), bytes + buffer.bytes());
        return {all.begin() + ptrdiff_t(offset), all.begin() + ptrdiff_t(offset + n)};
    }
};

// IEEE binary16 bits -> float (exact).
float half_to_float(uint16_t h) {
    const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    float v;
    if (exponent == 0)
        v = std::ldexp(float(mantissa), -24);  // subnormal
    else if (exponent == 31)
        v = mantissa ? kNaN : INFINITY;
    else
        v = std::ldexp(float(mantissa | 0x400), exponent - 25);
    return (h & 0x8000) ? -v : v;
}

// The largest |a - b| / max(1, |b|), elementwise; inf where either side is NaN.
double max_relative(std::span<const float> a, std::span<const float> b) {
    REQUIRE(a.size() == b.size());
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double e =
            std::isnan(a[i]) || std::isnan(b[i])
                ? INFINITY
                : std::fabs(double(a[i]) - b[i]) / std::max(1.0, std::fabs(double(b[i])));
        worst = std::max(worst, e);
    }
    return worst;
}

// qkv (S, 3C) ~ N(0, 1), with the Q part of the rows scaled 4, 1, 0.1 in turn: score rows with
// std ~4 (peaky, max p near 1), ~1, and ~0.1 (near uniform) all in one input. Kept below the
// peakiness where the fp32 scores' rounding (~1e-6 relative) could move a probability by 1e-5.
std::vector<float> attention_input(int S, int C, uint32_t seed) {
    auto qkv = random_normal(size_t(S) * 3 * C, 0.0f, 1.0f, seed);
    const float row_scale[3] = {4.0f, 1.0f, 0.1f};
    for (int s = 0; s < S; ++s)
        for (int c = 0; c < C; ++c) qkv[size_t(s) * 3 * C + c] *= row_scale[s % 3];
    return qkv;
}

// What every attention map must satisfy on its own: zeros past the causal limit (exactly) and
// rows that sum to one; plus how many rows (of 16 keys or more) are peaky (max > 0.9) and near
// uniform (max < 3 / keys).
struct MapShape {
    bool upper_zero = true;
    double worst_row_sum = 0;  // max |sum - 1|
    int peaky = 0, flat = 0;
};

MapShape map_shape(const std::vector<float>& maps, const AttentionShape& shape) {
    const int S = shape.seq;
    MapShape m;
    for (int h = 0; h < shape.n_head; ++h)
        for (int i = 0; i < S; ++i) {
            const float* row = maps.data() + (size_t(h) * S + i) * S;
            const int allowed = shape.causal ? i + 1 : S;
            double sum = 0;
            float top = 0;
            for (int j = 0; j < S; ++j) {
                if (j >= allowed && row[j] != 0.0f) m.upper_zero = false;  // NaN fails too
                sum += row[j];
                top = std::max(top, row[j]);
            }
            m.worst_row_sum = std::max(m.worst_row_sum, std::fabs(sum - 1.0));
            if (allowed >= 16 && top > 0.9f) ++m.peaky;
            if (allowed >= 16 && top < 3.0f / float(allowed)) ++m.flat;
        }
    return m;
}

// An F32 attention result, downloaded and checked against the CPU reference (want_*): maps within
// 1e-5, ctx within 1e-4 relative to its magnitude, exact zeros past the causal limit, rows that
// sum to one, guard bands untouched.
struct F32Result {
    std::vector<float> maps, ctx;
    MapShape shape;
    double ctx_magnitude;
};

F32Result check_f32_attention(const gpu::Stream& stream, const DeviceOut<float>& maps,
                              const DeviceOut<float>& ctx, const std::vector<float>& want_maps,
                              const std::vector<float>& want_ctx, const AttentionShape& shape) {
    bool maps_guard = false, ctx_guard = false;
    F32Result r;
    r.maps = maps.download(stream, &maps_guard);
    r.ctx = ctx.download(stream, &ctx_guard);
    const Diff dm = compare(r.maps, want_maps), dc = compare(r.ctx, want_ctx);
    r.shape = map_shape(r.maps, shape);
    r.ctx_magnitude = dc.magnitude;
    INFO("F32 maps max_abs=" << dm.max_abs << " at " << dm.where << ", ctx max_abs=" << dc.max_abs
                             << " (magnitude " << dc.magnitude << "), worst row sum error "
                             << r.shape.worst_row_sum);
    CHECK(dm.max_abs <= 1e-5);
    CHECK(dc.max_abs <= 1e-4 * std::max(1.0, dc.magnitude));
    CHECK(r.shape.upper_zero);
    CHECK(r.shape.worst_row_sum <= 1e-5);
    CHECK(maps_guard);
    CHECK(ctx_guard);
    return r;
}

// One row of reference::attention, in its formulation (double scores, float probabilities):
// map (S), ctx_row (D) for head h, query row i.
void reference_row(const std::vector<float>& qkv, const AttentionShape& shape, int h, int i,
                   std::vector<float>& map, std::vector<float>& ctx_row) {
    const int S = shape.seq, D = shape.head_dim, C = shape.n_head * D;
    const double scale = 1.0 / std::sqrt(double(D));
    const int allowed = shape.causal ? i + 1 : S;
    std::vector<double> scores(static_cast<size_t>(allowed));
    double max_score = -INFINITY;
    for (int j = 0; j < allowed; ++j) {
        double dot = 0;
        for (int d = 0; d < D; ++d)
            dot +=
                double(qkv[size_t(i) * 3 * C + h * D + d]) * qkv[size_t(j) * 3 * C + C + h * D + d];
        scores[size_t(j)] = dot * scale;
        max_score = std::max(max_score, scores[size_t(j)]);
    }
    double sum = 0;
    for (double& s : scores) sum += (s = std::exp(s - max_score));
    map.assign(size_t(S), 0.0f);
    for (int j = 0; j < allowed; ++j) map[size_t(j)] = float(scores[size_t(j)] / sum);
    ctx_row.assign(size_t(D), 0.0f);
    for (int d = 0; d < D; ++d) {
        double acc = 0;
        for (int j = 0; j < allowed; ++j)
            acc += double(map[size_t(j)]) * qkv[size_t(j) * 3 * C + 2 * C + h * D + d];
        ctx_row[size_t(d)] = float(acc);
    }
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// attention

TEST_CASE("cuda attention: fused kernel matches the CPU reference (F32, F16 and no maps)") {
    const gpu::Stream stream;
    struct Heads {
        int H, D;
    };
    const Heads heads[] = {{12, 64}, {12, 32}, {3, 40}};  // GPT-2/BERT, MiniLM, an odd size
    uint32_t seed = 100;
    int cases = 0;
    for (int S : {1, 7, 64, 257, 1024})
        for (const Heads& hd : heads)
            for (bool causal : {true, false}) {
                const int H = hd.H, D = hd.D, C = H * D;
                const AttentionShape shape{S, H, D, causal};
                const size_t n_maps = size_t(H) * S * S, n_ctx = size_t(S) * C;
                INFO("S=" << S << " H=" << H << " D=" << D << " causal=" << causal);
                const auto qkv = attention_input(S, C, seed++);
                std::vector<float> want_maps(n_maps, kNaN), want_ctx(n_ctx, kNaN);
                reference::attention(want_ctx, want_maps, qkv, shape);
                const auto d_qkv = upload(stream.get(), qkv);

                // F32 maps: within 1e-5 of the reference, zeros above the diagonal, rows sum to 1.
                DeviceOut<float> maps32(stream.get(), n_maps), ctx32(stream.get(), n_ctx);
                gpu::attention(stream.get(), ctx32.data(), maps32.data(), gpu::MapType::F32,
                               d_qkv.data(), shape);
                const F32Result f32 =
                    check_f32_attention(stream, maps32, ctx32, want_maps, want_ctx, shape);
                const std::vector<float>& got_maps = f32.maps;
                const std::vector<float>& got_ctx = f32.ctx;
                if (S >= 64) {  // the input really has both kinds of rows
                    CHECK(f32.shape.peaky > 0);
                    CHECK(f32.shape.flat > 0);
                }

                // F16 maps: each entry is the F32 entry rounded to nearest (within half an ulp);
                // ctx still from fp32 probabilities. Causal runs shift the buffer by one half, so
                // with even S every row starts at 2 mod 4 bytes and the pair stores need their
                // scalar head and tail; odd S alternates both kinds of row start.
                DeviceOut<uint16_t> maps16(stream.get(), n_maps, /*misalign=*/causal);
                DeviceOut<float> ctx16(stream.get(), n_ctx);
                gpu::attention(stream.get(), ctx16.data(), maps16.data(), gpu::MapType::F16,
                               d_qkv.data(), shape);
                bool maps_guard = false, ctx_guard = false;
                const auto bits = maps16.download(stream, &maps_guard);
                const auto got_ctx16 = ctx16.download(stream, &ctx_guard);
                std::vector<float> got_maps16(n_maps);
                size_t off_rounding = 0;
                for (size_t e = 0; e < n_maps; ++e) {
                    got_maps16[e] = half_to_float(bits[e]);
                    const double p = got_maps[e];
                    if (!(std::fabs(got_maps16[e] - p) <= p * 0x1p-11 * (1 + 1e-3) + 0x1p-25))
                        ++off_rounding;
                }
                const Diff dm16 = compare(got_maps16, want_maps);
                const Diff dc16 = compare(got_ctx16, got_ctx);
                INFO("F16 maps max_abs=" << dm16.max_abs << " at " << dm16.where
                                         << ", ctx vs F32 run max_abs=" << dc16.max_abs);
                CHECK(dm16.max_abs <= 1e-3);
                CHECK(off_rounding == 0);
                CHECK(map_shape(got_maps16, shape).upper_zero);
                CHECK(dc16.max_abs <= 1e-6 * std::max(1.0, f32.ctx_magnitude));
                CHECK(maps_guard);
                CHECK(ctx_guard);

                // No maps: ctx alone, the same as with maps.
                DeviceOut<float> ctx_only(stream.get(), n_ctx);
                gpu::attention(stream.get(), ctx_only.data(), nullptr, gpu::MapType::F32,
                               d_qkv.data(), shape);
                const auto got_ctx_only = ctx_only.download(stream, &ctx_guard);
                const Diff dn = compare(got_ctx_only, got_ctx);
                INFO("no-maps ctx vs F32 run max_abs=" << dn.max_abs);
                CHECK(dn.max_abs <= 1e-6 * std::max(1.0, f32.ctx_magnitude));
                CHECK(compare(got_ctx_only, want_ctx).max_abs <=
                      1e-4 * std::max(1.0, f32.ctx_magnitude));
                CHECK(ctx_guard);
                ++cases;
            }
    CHECK(cases == 5 * 3 * 2);
}

TEST_CASE("cuda attention: every row-block size, up to attention_max_seq, on sampled rows") {
    // The fused kernel takes fewer rows per block as S grows (its score rows must fit in shared
    // memory). S = M/24 .. M spans those sizes whatever the exact budget; the sampled rows
    // include each end and the middle, checked against the reference's formulation.
    const gpu::Stream stream;
    const int H = 1, D = 64, C = H * D;
    const int M = gpu::attention_max_seq(D);
    REQUIRE(M >= 1024);
    for (int divisor : {24, 12, 6, 3, 1}) {
        const int S = M / divisor;
        const bool causal = divisor == 1 || divisor % 2 == 0;  // the longest one causal: cheaper
        const bool with_maps = divisor != 1;                   // M x M floats would be ~10 GB
        const AttentionShape shape{S, H, D, causal};
        INFO("S=" << S << " (max " << M << ") causal=" << causal << " maps=" << with_maps);
        const auto qkv = attention_input(S, C, uint32_t(7000 + divisor));
        const auto d_qkv = upload(stream.get(), qkv);
        DeviceOut<float> ctx(stream.get(), size_t(S) * C);
        gpu::DeviceBuffer<float> maps(with_maps ? size_t(S) * S : 0);
        if (with_maps)
            gpu::check(cudaMemsetAsync(maps.data(), 0xFF, maps.bytes(), stream.get()), "memset");
        gpu::attention(stream.get(), ctx.data(), maps.data(), gpu::MapType::F32, d_qkv.data(),
                       shape);
        bool ctx_guard = false;
        const auto got_ctx = ctx.download(stream, &ctx_guard);
        CHECK(ctx_guard);
        std::mt19937 rng(static_cast<uint32_t>(S));
        std::vector<int> rows = {0, 1, 2, 15, 16, 17, S / 2, S - 17, S - 2, S - 1};
        for (int k = 0; k < 6; ++k) rows.push_back(int(rng() % uint32_t(S)));
        std::vector<float> want_map, want_ctx, got_map(static_cast<size_t>(S));
        for (int i : rows) {
            INFO("row " << i);
            reference_row(qkv, shape, 0, i, want_map, want_ctx);
            const std::span<const float> got_ctx_row(got_ctx.data() + size_t(i) * C, size_t(D));
            const Diff dc = compare(got_ctx_row, want_ctx);
            CHECK(dc.max_abs <= 1e-4 * std::max(1.0, dc.magnitude));
            if (!with_maps) continue;
            gpu::check(cudaMemcpy(got_map.data(), maps.data() + size_t(i) * S, size_t(S) * 4,
                                  cudaMemcpyDeviceToHost),
                       "cudaMemcpy");
            const Diff dm = compare(got_map, want_map);
            INFO("map max_abs=" << dm.max_abs << " at " << dm.where);
            CHECK(dm.max_abs <= 1e-5);
            double sum = 0;
            bool upper_zero = true;
            for (int j = 0; j < S; ++j) {
                sum += got_map[size_t(j)];
                if (causal && j > i && got_map[size_t(j)] != 0.0f) upper_zero = false;
            }
            CHECK(std::fabs(sum - 1.0) <= 1e-5);
            CHECK(upper_zero);
        }
    }
}

TEST_CASE("cuda attention: S beyond attention_max_seq and bad head sizes throw headmap::Error") {
    const gpu::Stream stream;
    for (int D : {32, 40, 64}) {
        const int M = gpu::attention_max_seq(D);
        INFO("D=" << D << " max_seq=" << M);
        CHECK(M >= 1024);  // GPT-2's longest context fits
        const int S = M + 1;
        gpu::DeviceBuffer<float> qkv(size_t(S) * 3 * D), ctx(size_t(S) * D);
        const AttentionShape shape{S, 1, D, true};
        std::string message;
        try {
            gpu::attention(stream.get(), ctx.data(), nullptr, gpu::MapType::F32, qkv.data(), shape);
        } catch (const Error& e) {
            message = e.what();
        }
        INFO("message: " << message);
        CHECK(message.find("S=" + std::to_string(S)) != std::string::npos);
        CHECK(message.find("D=" + std::to_string(D)) != std::string::npos);
        CHECK(message.find(std::to_string(M)) != std::string::npos);
        CHECK(message.find('\n') == std::string::npos);
    }
    CHECK(gpu::attention_max_seq(32) > gpu::attention_max_seq(64));
    CHECK_THROWS_AS(gpu::attention_max_seq(0), Error);
    CHECK_THROWS_AS(gpu::attention_max_seq(257), Error);
    stream.synchronize();
}

TEST_CASE(
    "cuda attention_reference and the unfused baseline (cuBLAS + softmax_rows) match the CPU "
    "reference") {
    const gpu::Stream stream;
    gpu::Blas blas;
    const AttentionShape shapes[] = {{1, 2, 8, true},     {33, 3, 40, true},    {33, 3, 40, false},
                                     {130, 12, 64, true}, {130, 12, 64, false}, {100, 4, 32, false},
                                     {257, 12, 64, true}};
    uint32_t seed = 500;
    for (const AttentionShape& shape : shapes) {
        const int S = shape.seq, H = shape.n_head, C = H * shape.head_dim;
        const auto qkv = attention_input(S, C, seed++);
        std::vector<float> want_maps(size_t(H) * S * S), want_ctx(size_t(S) * C);
        reference::attention(want_ctx, want_maps, qkv, shape);
        const auto d_qkv = upload(stream.get(), qkv);
        for (const bool baseline : {false, true}) {
            INFO((baseline ? "baseline" : "attention_reference")
                 << " S=" << S << " H=" << H << " D=" << shape.head_dim
                 << " causal=" << shape.causal);
            DeviceOut<float> maps(stream.get(), want_maps.size()),
                ctx(stream.get(), want_ctx.size());
            if (baseline)
                blas.attention_baseline(stream.get(), ctx.data(), maps.data(), d_qkv.data(), shape,
                                        gpu::GemmMath::Exact);
            else
                gpu::attention_reference(stream.get(), ctx.data(), maps.data(), d_qkv.data(),
                                         shape);
            check_f32_attention(stream, maps, ctx, want_maps, want_ctx, shape);
        }
    }
}

// ------------------------------------------------------------------------------------------------
// elementwise

TEST_CASE("cuda layernorm: matches the reference, also in place") {
    const gpu::Stream stream;
    uint32_t seed = 900;
    for (int S : {1, 5, 37})
        for (int C : {1, 31, 384, 768, 1000}) {
            INFO("S=" << S << " C=" << C);
            const auto in = random_normal(size_t(S) * C, 0.5f, 2.0f, seed++);
            const auto weight = random_normal(size_t(C), 1.0f, 0.5f, seed++);
            const auto bias = random_normal(size_t(C), 0.0f, 1.0f, seed++);
            const float eps = 1e-5f;
            std::vector<float> want(in.size());
            reference::layernorm(want, in, weight, bias, S, C, eps);
            const auto d_in = upload(stream.get(), in), d_w = upload(stream.get(), weight),
                       d_b = upload(stream.get(), bias);
            DeviceOut<float> out(stream.get(), in.size());
            gpu::layernorm(stream.get(), out.data(), d_in.data(), d_w.data(), d_b.data(), S, C,
                           eps);
            bool guard = false;
            const double err = max_relative(out.download(stream, &guard), want);
            INFO("max relative error " << err);
            CHECK(err <= 1e-5);
            CHECK(guard);

            auto inplace = upload(stream.get(), in);
            gpu::layernorm(stream.get(), inplace.data(), inplace.data(), d_w.data(), d_b.data(), S,
                           C, eps);
            std::vector<float> got(in.size());
            gpu::check(cudaMemcpyAsync(got.data(), inplace.data(), inplace.bytes(),
                                       cudaMemcpyDeviceToHost, stream.get()),
                       "cudaMemcpyAsync");
            stream.synchronize();
            CHECK(max_relative(got, want) <= 1e-5);
        }
}

TEST_CASE("cuda bias_epilogue: every epilogue, with and without bias") {
    const gpu::Stream stream;
    const Epilogue epilogues[] = {Epilogue::Store, Epilogue::Accumulate, Epilogue::GeluTanh,
                                  Epilogue::GeluErf};
    uint32_t seed = 1300;
    for (int N : {1, 33, 773}) {
        const int S = 37;
        // What cuBLAS left in out (for Accumulate, already with the residual in), spread over
        // GELU's interesting range; the bias shifts it.
        const auto x = random_normal(size_t(S) * N, 0.0f, 2.5f, seed++);
        const auto bias_values = random_normal(size_t(N), 0.3f, 1.0f, seed++);
        const auto d_bias = upload(stream.get(), bias_values);
        for (Epilogue epilogue : epilogues)
            for (bool with_bias : {true, false}) {
                INFO("N=" << N << " epilogue=" << name(epilogue) << " bias=" << with_bias);
                std::vector<float> want(x.size());
                for (size_t i = 0; i < x.size(); ++i) {
                    const float v =
                        with_bias ? float(double(x[i]) + bias_values[i % size_t(N)]) : x[i];
                    want[i] = epilogue == Epilogue::GeluTanh  ? reference::gelu_tanh(v)
                              : epilogue == Epilogue::GeluErf ? reference::gelu_erf(v)
                                                              : v;
                }
                DeviceOut<float> out(stream.get(), x.size());
                gpu::check(cudaMemcpyAsync(out.data(), x.data(), x.size() * sizeof(float),
                                           cudaMemcpyHostToDevice, stream.get()),
                           "cudaMemcpyAsync");
                gpu::bias_epilogue(stream.get(), out.data(), with_bias ? d_bias.data() : nullptr, S,
                                   N, epilogue);
                bool guard = false;
                const auto got = out.download(stream, &guard);
                const double err = max_relative(got, want);
                INFO("max relative error " << err);
                CHECK(err <= 1e-5);
                CHECK(guard);
                if (!with_bias && (epilogue == Epilogue::Store || epilogue == Epilogue::Accumulate))
                    CHECK(got == x);  // nothing to add: out untouched
            }
    }
}

TEST_CASE("cuda add_inplace: x += y exactly, over lengths past one grid") {
    const gpu::Stream stream;
    for (int64_t n : {int64_t(1), int64_t(1000), int64_t(1) << 21 | 3}) {
        INFO("n=" << n);
        const auto x = random_normal(size_t(n), 0.0f, 1.0f, uint32_t(n));
        const auto y = random_normal(size_t(n), 1.0f, 3.0f, uint32_t(n + 1));
        std::vector<float> want(x.size());
        for (size_t i = 0; i < x.size(); ++i) want[i] = x[i] + y[i];
        DeviceOut<float> d_x(stream.get(), x.size());
        gpu::check(cudaMemcpyAsync(d_x.data(), x.data(), x.size() * sizeof(float),
                                   cudaMemcpyHostToDevice, stream.get()),
                   "cudaMemcpyAsync");
        const auto d_y = upload(stream.get(), y);
        gpu::add_inplace(stream.get(), d_x.data(), d_y.data(), n);
        bool guard = false;
        CHECK(d_x.download(stream, &guard) == want);
        CHECK(guard);
    }
}

TEST_CASE("cuda embed: GPT-2, BERT (with and without type ids) and RoBERTa positions") {
    const gpu::Stream stream;
    const int V = 50, P = 40, T = 2;
    struct Case {
        const char* name;
        int C;
        bool token_types, type_ids;
        int position_offset, position_pad_id;
    };
    const Case cases[] = {{"gpt2", 768, false, false, 0, -1},
                          {"bert", 33, true, true, 0, -1},
                          {"bert, no type ids", 33, true, false, 0, -1},
                          {"roberta", 64, true, false, 2, 1}};
    uint32_t seed = 1700;
    for (const Case& c : cases) {
        INFO(c.name);
        const int C = c.C, S = 23;
        const auto token = random_normal(size_t(V) * C, 0.0f, 1.0f, seed++);
        const auto position = random_normal(size_t(P) * C, 0.0f, 1.0f, seed++);
        const auto token_type = random_normal(size_t(T) * C, 0.0f, 1.0f, seed++);
        std::mt19937 rng(seed++);
        std::vector<int32_t> ids(static_cast<size_t>(S)), type_ids(static_cast<size_t>(S));
        for (auto& id : ids) id = int32_t(rng() % V);
        for (auto& t : type_ids) t = int32_t(rng() % T);
        if (c.position_pad_id >= 0) ids[3] = ids[9] = c.position_pad_id;  // padding mid-text
        EmbeddingTables tables{.token = token, .position = position};
        if (c.token_types) tables.token_type = token_type;
        tables.position_offset = c.position_offset;
        tables.position_pad_id = c.position_pad_id;
        const std::span<const int32_t> types =
            c.type_ids ? std::span<const int32_t>(type_ids) : std::span<const int32_t>{};
        // The engine hands the kernel per-token positions, numbered as reference::embed does.
        std::vector<int32_t> positions(static_cast<size_t>(S));
        for (int s = 0, counted = 0; s < S; ++s)
            positions[size_t(s)] = c.position_pad_id < 0 ? c.position_offset + s
                                   : ids[size_t(s)] == c.position_pad_id
                                       ? c.position_offset - 1
                                       : c.position_offset + counted++;
        std::vector<float> want(size_t(S) * C), fast(size_t(S) * C);
        reference::embed(want, tables, ids, types, C);
        cpu::embed(fast, tables, ids, types, C);

        const auto d_token = upload(stream.get(), token),
                   d_position = upload(stream.get(), position),
                   d_type = upload(stream.get(), token_type);
        const auto d_ids = upload(stream.get(), ids), d_positions = upload(stream.get(), positions),
                   d_type_ids = upload(stream.get(), type_ids);
        DeviceOut<float> x(stream.get(), size_t(S) * C);
        gpu::embed(stream.get(), x.data(), d_token.data(), d_position.data(),
                   c.token_types ? d_type.data() : nullptr, d_ids.data(), d_positions.data(),
                   c.type_ids ? d_type_ids.data() : nullptr, S, C);
        bool guard = false;
        const auto got = x.download(stream, &guard);
        CHECK(max_relative(got, want) <= 1e-6);
        CHECK(got == fast);  // the same float sums in the same order as cpu::embed
        CHECK(guard);
    }
}
