// The attention kernels head to head (engine/cuda_kernel_bench.h), built only into
// libheadmap_cuda.so; the engine reaches it through bench_attention_kernels (cuda_forward.cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/cuda/backend.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"

namespace headmap {
namespace {

template <class T>
std::vector<T> download(const cuda::Stream& stream, const cuda::DeviceBuffer<T>& buffer) {
    std::vector<T> host(buffer.size());
    cuda::check(cudaMemcpyAsync(host.data(), buffer.data(), buffer.bytes(), cudaMemcpyDeviceToHost,
                                stream.get()),
                "cudaMemcpyAsync");
    stream.synchronize();
    return host;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(double(a[i]) - double(b[i]));
        worst = std::isnan(d) ? INFINITY : std::max(worst, d);
    }
    return worst;
}

}  // namespace

namespace cuda_backend {

AttentionKernelTimes bench_attention_kernels(const AttentionShape& shape, int runs) {
    const size_t S = size_t(shape.seq), C = size_t(shape.n_head) * size_t(shape.head_dim);
    const size_t map_count = size_t(shape.n_head) * S * S;
    cuda::Stream stream;
    std::vector<float> qkv_host(S * 3 * C);  // (S, 3C) ~ N(0, 1), as a layer's projection output
    std::mt19937 rng(1234);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& v : qkv_host) v = normal(rng);
    cuda::DeviceBuffer<float> qkv(qkv_host.size()), ctx(S * C), ctx_baseline(S * C);
    cuda::DeviceBuffer<float> maps(map_count), maps_baseline(map_count);
    cuda::DeviceBuffer<uint16_t> maps_f16(map_count);
    cuda::check(cudaMemcpyAsync(qkv.data(), qkv_host.data(), qkv.bytes(), cudaMemcpyHostToDevice,
                                stream.get()),
                "cudaMemcpyAsync");
    cuda::Blas blas;
    cuda::Event start(true), end(true);
    const auto run_times = [&](auto&& enqueue) {
        std::vector<double> times;
        for (int run = -1; run < runs; ++run) {  // run -1 warms up
            start.record(stream.get());
            enqueue();
            end.record(stream.get());
            end.synchronize();
            if (run >= 0) times.push_back(end.milliseconds_since(start));
        }
        return times;
    };
    AttentionKernelTimes t;
    t.map_bytes = double(map_count) * sizeof(float);
    t.fused_f16_ms = run_times([&] {
        cuda::attention(stream.get(), ctx.data(), maps_f16.data(), cuda::MapType::F16, qkv.data(),
                        shape);
    });
    t.fused_ms = run_times([&] {
        cuda::attention(stream.get(), ctx.data(), maps.data(), cuda::MapType::F32, qkv.data(),
                        shape);
    });
    t.baseline_ms = run_times([&] {
        blas.attention_baseline(stream.get(), ctx_baseline.data(), maps_baseline.data(), qkv.data(),
                                shape, cuda::GemmMath::Exact);
    });
    // The F32 runs came after the F16 ones, so ctx is theirs.
    t.max_abs_maps = max_abs_diff(download(stream, maps), download(stream, maps_baseline));
    t.max_abs_ctx = max_abs_diff(download(stream, ctx), download(stream, ctx_baseline));
    return t;
}

}  // namespace cuda_backend
}  // namespace headmap
