// libheadmap_cuda.so's one exported symbol (cmake/headmap_cuda.map): the table of
// engine/cuda_module.h, filled with the functions of forward.cpp and kernel_bench.cpp.
#include "engine/cuda/backend.h"
#include "engine/cuda_module.h"

extern "C" __attribute__((visibility("default"))) const headmap::CudaModuleApi*
headmap_cuda_module() {
    using namespace headmap::cuda_backend;
    static const headmap::CudaModuleApi api{
        .abi = headmap::kCudaModuleAbi,
        .layout = headmap::cuda_module_layout(),
        .available = available,
        .create = create,
        .destroy = destroy,
        .ring_storage = ring_storage,
        .device = device,
        .forward = forward,
        .set_timing = set_timing,
        .last_timing = last_timing,
        .measure_bandwidth = measure_bandwidth,
        .bench_attention_kernels = bench_attention_kernels,
    };
    return &api;
}
