// The functions behind libheadmap_cuda.so's table (module.cpp): CudaForward's and
// bench_attention_kernels' implementations, with the CUDA state behind an opaque pointer.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "engine/cuda_forward.h"
#include "engine/cuda_kernel_bench.h"

namespace headmap {

struct ForwardRequest;
struct ForwardResult;

namespace cuda_backend {

bool available(std::string* why);
// Throws headmap::Error (no device, a model too long for the attention kernel, CUDA errors).
CudaForward::State* create(const ModelConfig& config, const ArchSpec& arch,
                           const ModelWeights& weights, int max_seq, int ring_slots, bool fast);
void destroy(CudaForward::State* state);
std::span<float> ring_storage(CudaForward::State& state);
std::string device(const CudaForward::State& state);
ForwardResult forward(CudaForward::State& state, const ForwardRequest& request, int last_layer,
                      AttentionRing& ring, std::span<float> hidden_host, std::span<float> tap_host);
void set_timing(CudaForward::State& state, bool on);
CudaTiming last_timing(const CudaForward::State& state);
CudaBandwidth measure_bandwidth(size_t bytes);
AttentionKernelTimes bench_attention_kernels(const AttentionShape& shape, int runs);

}  // namespace cuda_backend
}  // namespace headmap
