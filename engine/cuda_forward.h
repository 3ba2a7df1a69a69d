// The CUDA backend of Engine (EngineOptions::device = Device::Cuda): weights uploaded once, a
// device activation arena, the shared layer schedule (forward_schedule.h) run with cuBLAS and
// the kernels of kernels/cuda, and each emitted layer's maps copied on a second stream into the
// ring's pinned slots while the next layer computes. Plain C++ header: no CUDA types, so the
// engine builds the same with and without the toolkit (without it, `available` says why not).
// The implementation lives in libheadmap_cuda.so (engine/cuda/, engine/cuda_module.h); this class
// opens it on first use, so processes that never ask for a device load no CUDA library.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "engine/architecture.h"
#include "engine/attention_ring.h"
#include "engine/config.h"
#include "engine/model_weights.h"

namespace headmap {

struct ForwardRequest;
struct ForwardResult;
struct CudaModuleApi;

// Device time of the last forward, when timing was on (CudaForward::set_timing).
struct CudaTiming {
    double forward_ms = 0;    // first upload to last map on the host (wall, device events)
    double attention_ms = 0;  // the fused attention kernels alone, summed over layers
    double transfer_ms = 0;   // device-to-host map copies, summed over layers
    double map_bytes = 0;     // bytes of maps copied to the host
};

// Measured bandwidths for the bench's bound: device memory writes (cudaMemset of `bytes`) and
// device-to-host copies into page-locked memory (`bytes`), best of 5, GB/s.
struct CudaBandwidth {
    double device_write_gbps = 0;
    double device_to_host_gbps = 0;
};

class CudaForward {
  public:
    // Whether this build and machine can run it (the module loads, a device exists); false with
    // the reason in *why. Never throws.
    static bool available(std::string* why);

    // fast: TF32 projections and fp16 maps on the device (halving the copy); exact otherwise.
    CudaForward(const ModelConfig& config, const ArchSpec& arch, const ModelWeights& weights,
                int max_seq, int ring_slots, bool fast);
    ~CudaForward();
    CudaForward(const CudaForward&) = delete;
    CudaForward& operator=(const CudaForward&) = delete;

    // Page-locked storage for the AttentionRing: ring_slots * H * max_seq^2 floats.
    std::span<float> ring_storage();
    std::string device() const;

    // Runs layers 0..last_layer of a validated request, publishing maps to `ring`; copies the
    // hidden state to `hidden_host` (S * C floats) when request.hidden, and returns it there.
    ForwardResult forward(const ForwardRequest& request, int last_layer, AttentionRing& ring,
                          std::span<float> hidden_host, std::span<float> tap_host);

    void set_timing(bool on);
    CudaTiming last_timing() const;
    static CudaBandwidth measure_bandwidth(size_t bytes);

    struct State;  // defined in cuda/forward.cpp, inside the module (CUDA handles and buffers)

  private:
    const CudaModuleApi* api_ = nullptr;  // the module's table, loaded for the process's life
    State* state_ = nullptr;              // owned; the module frees it (api_->destroy)
};

}  // namespace headmap
