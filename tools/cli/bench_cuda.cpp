#include "tools/cli/bench_cuda.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/architecture.h"
#include "engine/cuda_forward.h"
#include "engine/cuda_kernel_bench.h"
#include "headmap/error.hpp"
#include "tools/cli/median.h"

namespace headmap::cli {
namespace {

// The fused kernel against the unfused baseline (cuBLAS + row softmax + cuBLAS) at the model's
// attention shape, outside the forward: one JSON line.
void print_attention_kernel_bench(const Engine& engine, int S, int runs, const CudaBandwidth& bw) {
    const ModelConfig& config = engine.config();
    const AttentionShape shape{S, config.n_head, config.head_dim(),
                               arch_for(config.model_type).causal};
    const AttentionKernelTimes t = bench_attention_kernels(shape, runs);
    const double fused_ms = median(t.fused_ms), fused_f16_ms = median(t.fused_f16_ms);
    const double baseline_ms = median(t.baseline_ms);
    // Each kernel's map bytes over its time, as a fraction of the measured device write bandwidth.
    const auto fraction = [&](double bytes, double ms) {
        return ms > 0 ? bytes / (ms * 1e6) / bw.device_write_gbps : 0.0;
    };
    std::printf(
        "{\"impl\": \"headmap-cuda-attention\", \"seq\": %d, \"heads\": %d, \"head_dim\": %d, "
        "\"causal\": %s, \"runs\": %d, \"fused_ms\": %.4f, \"fused_f16_ms\": %.4f, "
        "\"baseline_ms\": %.4f, \"fused_speedup_vs_baseline\": %.2f, \"map_bytes\": %.0f, "
        "\"device_write_gbps\": %.1f, \"fused_write_fraction_of_hbm\": %.3f, "
        "\"fused_f16_write_fraction_of_hbm\": %.3f, \"max_abs_maps_vs_baseline\": %.3g, "
        "\"max_abs_ctx_vs_baseline\": %.3g}\n",
        shape.seq, shape.n_head, shape.head_dim, shape.causal ? "true" : "false", runs, fused_ms,
        fused_f16_ms, baseline_ms, fused_ms > 0 ? baseline_ms / fused_ms : 0.0, t.map_bytes,
        bw.device_write_gbps, fraction(t.map_bytes, fused_ms),
        fraction(t.map_bytes / 2, fused_f16_ms), t.max_abs_maps, t.max_abs_ctx);
    std::fflush(stdout);
}

}  // namespace

void print_cuda_bench(Engine& engine, const std::vector<Encoding>& inputs, int runs,
                      const std::string& source_key, const std::string& name) {
    CudaForward& cuda = *engine.cuda();
    cuda.set_timing(true);
    int maps = 0, tokens = 0;
    float checksum = 0;
    const auto consume = [&](const AttentionSlot& slot) {  // one read per map: it reached the host
        for (int h = 0; h < slot.n_head; ++h) checksum += slot.head(h)[0];
        maps += slot.n_head;
    };
    for (const Encoding& e : inputs) tokens += int(e.ids.size());
    std::vector<double> wall, forward, attention, transfer;
    double map_bytes = 0;
    for (int run = -1; run < runs; ++run) {  // run -1 warms up
        maps = 0;
        CudaTiming sum;
        const auto start = std::chrono::steady_clock::now();
        for (const Encoding& encoding : inputs) {
            ForwardRequest request;
            request.ids = encoding.ids;
            request.type_ids = encoding.type_ids;
            engine.run(request, consume);
            const CudaTiming t = cuda.last_timing();
            sum.forward_ms += t.forward_ms;
            sum.attention_ms += t.attention_ms;
            sum.transfer_ms += t.transfer_ms;
            sum.map_bytes += t.map_bytes;
        }
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (run < 0) continue;
        wall.push_back(seconds * 1e3);
        forward.push_back(sum.forward_ms);
        attention.push_back(sum.attention_ms);
        transfer.push_back(sum.transfer_ms);
        map_bytes = sum.map_bytes;
    }
    if (checksum != checksum) throw Error("bench: a map held NaN");
    // The bound: the map bytes at the measured device write and device-to-host bandwidths.
    const CudaBandwidth bw = CudaForward::measure_bandwidth(size_t(256) << 20);
    const double device_bound_ms = map_bytes / (bw.device_write_gbps * 1e6);
    const double copy_bound_ms = map_bytes / (bw.device_to_host_gbps * 1e6);
    const double attention_ms = median(attention);
    std::printf(
        "{\"impl\": \"headmap-cuda\", \"device\": \"%s\", \"%s\": \"%s\", \"texts\": %zu, "
        "\"tokens\": %d, \"fast\": %s, \"runs\": %d, \"ms\": %.3f, \"forward_ms\": %.3f, "
        "\"attention_kernel_ms\": %.3f, \"transfer_ms\": %.3f, \"map_bytes\": %.0f, "
        "\"device_write_gbps\": %.1f, \"d2h_gbps\": %.1f, \"device_bound_ms\": %.3f, "
        "\"copy_bound_ms\": %.3f, \"forward_over_copy_bound\": %.3f, "
        "\"attention_write_fraction_of_hbm\": %.3f, \"maps\": %d}\n",
        cuda.device().c_str(), source_key.c_str(), name.c_str(), inputs.size(), tokens,
        engine.fast() ? "true" : "false", runs, median(wall), median(forward), attention_ms,
        median(transfer), map_bytes, bw.device_write_gbps, bw.device_to_host_gbps, device_bound_ms,
        copy_bound_ms, median(wall) / copy_bound_ms,
        attention_ms > 0 ? device_bound_ms / attention_ms : 0.0, maps);
    std::fflush(stdout);
    if (inputs.size() == 1)
        print_attention_kernel_bench(engine, int(inputs[0].ids.size()), runs, bw);
}

}  // namespace headmap::cli
