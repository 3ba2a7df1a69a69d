// The seam between the engine and libheadmap_cuda.so, the CUDA backend as a module loaded only
// when a CUDA device is asked for: linking cudart and cuBLAS into every process cost ~200 MB
// resident and ~60 ms at start, even for `headmap --help`. The module exports one C symbol,
// kCudaModuleEntry, which returns this table; cuda_forward.cpp opens the module on first use.
// Both sides come from one build and share the C++ runtime (libstdc++, libgcc_s), so the table
// passes C++ types and the functions may throw headmap::Error straight through to the caller.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "engine/cuda_forward.h"
#include "engine/cuda_kernel_bench.h"
#include "engine/engine.h"

namespace headmap {

// Bumped whenever the table or the types it passes change shape.
constexpr int kCudaModuleAbi = 1;
constexpr const char* kCudaModuleEntry = "headmap_cuda_module";
constexpr const char* kCudaModuleFile = "libheadmap_cuda.so";

// The sizes of the structures that cross the seam: a module from another build is refused
// rather than trusted to agree on their layouts.
inline size_t cuda_module_layout() {
    return sizeof(ModelConfig) + 3 * sizeof(ArchSpec) + 5 * sizeof(ModelWeights) +
           7 * sizeof(LayerWeights) + 11 * sizeof(ForwardRequest) + 13 * sizeof(ForwardResult) +
           17 * sizeof(AttentionRing) + 19 * sizeof(DeviceStatsRequest) +
           23 * sizeof(DeviceHeadStats) + 29 * sizeof(CudaTiming) + 31 * sizeof(CudaBandwidth) +
           37 * sizeof(AttentionKernelTimes) + 41 * sizeof(AttentionShape);
}

struct CudaModuleApi {
    int abi = 0;        // kCudaModuleAbi
    size_t layout = 0;  // cuda_module_layout() as the module computed it
    bool (*available)(std::string* why) = nullptr;
    CudaForward::State* (*create)(const ModelConfig& config, const ArchSpec& arch,
                                  const ModelWeights& weights, int max_seq, int ring_slots,
                                  bool fast) = nullptr;
    void (*destroy)(CudaForward::State* state) = nullptr;
    std::span<float> (*ring_storage)(CudaForward::State& state) = nullptr;
    std::string (*device)(const CudaForward::State& state) = nullptr;
    ForwardResult (*forward)(CudaForward::State& state, const ForwardRequest& request,
                             int last_layer, AttentionRing& ring, std::span<float> hidden_host,
                             std::span<float> tap_host) = nullptr;
    void (*set_timing)(CudaForward::State& state, bool on) = nullptr;
    CudaTiming (*last_timing)(const CudaForward::State& state) = nullptr;
    CudaBandwidth (*measure_bandwidth)(size_t bytes) = nullptr;
    AttentionKernelTimes (*bench_attention_kernels)(const AttentionShape& shape,
                                                    int runs) = nullptr;
};

}  // namespace headmap
