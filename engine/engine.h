// The engine: one loaded model with its preallocated activation arena, thread pool and
// attention ring. forward() allocates nothing on the heap (fast path).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "engine/architecture.h"
#include "engine/attention_ring.h"
#include "engine/config.h"
#include "engine/model_weights.h"
#include "kernels/cpu/packed_linear.h"

namespace headmap {

class CudaForward;
class WeightStore;

enum class Device { Cpu, Cuda };

struct EngineOptions {
    int threads = 0;     // 0: all hardware threads
    int ring_slots = 2;  // K
    int max_seq = 0;     // 0: the model's longest sequence (ModelConfig::max_tokens)
    // Inputs of up to cpu::panel_max_rows() tokens run their projections on the panel kernels
    // (kernels/cpu/packed_linear.h): (in, out) weights in place up to cpu::in_place_max_rows(),
    // otherwise from a copy repacked layer by layer when such an input first needs it. The copy
    // is made only when the whole of it would fit in this many bytes (MiniLM: 41 MiB, GPT-2
    // small and bert-base: 324 MiB); 0 never makes it (OpenBLAS runs those projections then).
    int64_t packed_weights_max_bytes = int64_t(1) << 30;
    // Cuda: Backend::Fast forwards run on GPU 0 (engine/cuda_forward.h); Backend::Reference still
    // runs the CPU reference loops, for parity checks. Construction throws headmap::Error when
    // this build or machine has no CUDA device.
    Device device = Device::Cpu;
    bool fast = false;  // Cuda only: TF32 projections and fp16 maps (exact FP32 otherwise)
};

enum class Backend { Fast, Reference };

// A named view of an intermediate buffer, for debugging and tests.
using TapFn = void (*)(void* user, const char* name, int layer, std::span<const float> data);

// Per-head statistics computed where the maps are: a CUDA engine reduces each emitted layer's
// maps on the device (kernels/cuda head_stats) and copies back only the numbers, so no map
// crosses to the host and the ring is not used. Same definitions as analysis::head_stats; plain
// numbers here, so that the forward pass does not depend on the analysis room
// (analysis::to_head_stats turns them into its type).
struct DeviceHeadStats {
    double entropy = 0, normalized_entropy = 0, sparsity = 0, max = 0;
    double first = 0, previous = 0, self = 0, distance = 0;
    double local = 0, medium = 0, global = 0, top5_mass = 0;
    std::vector<double> column_sums;  // (S) with DeviceStatsRequest::column_sums
};

struct DeviceStatsRequest {
    double threshold = 0.01;
    bool column_sums = false;
    // Receives (emitted layers x H) entries, layer by layer in ascending order, head by head.
    std::vector<DeviceHeadStats>* out = nullptr;
};

struct ForwardRequest {
    std::span<const int32_t> ids;
    // Token types (BERT's segment A = 0, B = 1), one per id; empty: all 0. Ignored by models
    // without a token-type table.
    std::span<const int32_t> type_ids;
    // Layers whose maps go to the ring, one flag per layer; empty: every layer. Layers after the
    // last flagged one are not computed unless `hidden` is set.
    std::span<const uint8_t> emit_layers;
    bool hidden = false;  // run every layer and the final norm; ForwardResult::hidden is filled
    // CUDA engines only (Engine::forward throws on a CPU engine): statistics instead of maps.
    const DeviceStatsRequest* device_stats = nullptr;
    Backend backend = Backend::Fast;
    TapFn tap = nullptr;
    void* tap_user = nullptr;
};

struct ForwardResult {
    int layers_computed = 0;
    int maps_published = 0;
    std::span<const float> hidden;  // (S, C) the last layer's output (after any final norm)
};

// A model's weights, loaded once: its config, architecture row, the mapped checkpoint (or random
// values), the spans bound to it and the panel copy inputs of middle length run from, made layer
// by layer on first use. Any number of Engines share one, on any threads (the C
// API's model handle holds one; each context's engine brings only its arena, ring and pool).
struct LoadedWeights {
    ModelConfig config;
    const ArchSpec* arch = nullptr;
    std::unique_ptr<WeightStore> store;  // a loaded checkpoint
    std::vector<float> random_storage;   // random weights
    ModelWeights weights;

    static std::shared_ptr<const LoadedWeights> load(const std::filesystem::path& model_dir,
                                                     int64_t packed_max_bytes);
    static std::shared_ptr<const LoadedWeights> random(const ModelConfig& config, uint64_t seed,
                                                       int64_t packed_max_bytes);
    LoadedWeights();
    ~LoadedWeights();
    LoadedWeights(const LoadedWeights&) = delete;  // the spans point into store/random_storage
    LoadedWeights& operator=(const LoadedWeights&) = delete;

    // Whether projections may run from a panel copy (within the byte budget).
    bool packs() const { return !packed_.empty(); }
    // The layer's qkv, attn_out, mlp_in and mlp_out panels (kProjectionsPerLayer of them),
    // packed by `pool` on the first call for that layer; thread-safe. packs() must hold.
    std::span<const cpu::PackedWeight> packed_layer(int layer, cpu::ThreadPool& pool) const;
    // Bytes of panel copies made so far.
    size_t packed_bytes() const;

  private:
    void plan_packing(int64_t max_bytes);
    mutable std::vector<cpu::PackedWeight> packed_;  // per layer x projection, filled lazily
    std::unique_ptr<std::once_flag[]> packed_once_;  // per layer
};

class Engine {
  public:
    // Loads the weights for this engine alone (LoadedWeights::load with the options' packing).
    static Engine load(const std::filesystem::path& model_dir, const EngineOptions& options);
    static Engine random(const ModelConfig& config, uint64_t seed, const EngineOptions& options);
    // An engine over weights loaded once and shared (options.packed_weights_max_bytes is the
    // weights' business then).
    static Engine create(std::shared_ptr<const LoadedWeights> weights,
                         const EngineOptions& options);

    Engine(Engine&&) noexcept;
    Engine& operator=(Engine&&) noexcept;
    ~Engine();

    const ModelConfig& config() const { return model_->config; }
    const ArchSpec& arch() const { return *model_->arch; }
    const ModelWeights& weights() const { return model_->weights; }
    int max_seq() const { return max_seq_; }
    // Whether projections may run from a panel copy (EngineOptions::packed_weights_max_bytes).
    bool packs_weights() const { return model_->packs(); }
    const LoadedWeights& loaded() const { return *model_; }
    int threads() const;
    AttentionRing& ring() { return *ring_; }
    // The CUDA backend, or null for a CPU engine (bench reads its timings).
    CudaForward* cuda() { return cuda_.get(); }
    bool fast() const { return fast_; }                                   // EngineOptions::fast
    size_t arena_bytes() const { return arena_floats_ * sizeof(float); }  // the activations

    // Producer side: publishes each emitted layer's maps to ring() and blocks when it is full.
    // Calls ring().finish() at the end. Errors (bad ids, too long) throw headmap::Error.
    ForwardResult forward(const ForwardRequest& request);

    // Runs forward() on this thread and `consumer` on a helper thread, slot by slot in layer
    // order. An exception from either side stops both and is rethrown here.
    ForwardResult run(const ForwardRequest& request,
                      const std::function<void(const AttentionSlot&)>& consumer);

  private:
    Engine();
    void allocate(const EngineOptions& options);
    void validate(const ForwardRequest& request) const;
    // The last layer a request needs: every layer for `hidden`, else the last emitted one.
    int last_layer_for(const ForwardRequest& request) const;

    std::shared_ptr<const LoadedWeights> model_;
    int max_seq_ = 0;
    std::unique_ptr<cpu::ThreadPool> pool_;
    std::unique_ptr<CudaForward> cuda_;  // before ring_: the ring may live in its pinned memory
    std::unique_ptr<AttentionRing> ring_;

    // The activation arena: one allocation carved into the buffers below, sized for max_seq_.
    std::unique_ptr<float[]> arena_;
    size_t arena_floats_ = 0;
    bool fast_ = false;
    std::span<float> residual_;  // (S, C)
    std::span<float> normed_;    // (S, C)
    std::span<float> qkv_;       // (S, 3C)
    std::span<float> context_;   // (S, C)
    std::span<float> mlp_;       // (S, F)
    std::span<float> scratch_;   // attention scores of layers nobody consumes
};

}  // namespace headmap
