#include "engine/engine.h"

#include <exception>
#include <string>
#include <thread>

#include "engine/cuda_forward.h"
#include "engine/forward_schedule.h"
#include "engine/safetensors.h"
#include "headmap/error.hpp"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/packed_linear.h"

namespace headmap {
namespace {

// Calls ring.finish() on every exit from forward(), so a consumer never waits forever.
struct FinishRingOnExit {
    AttentionRing& ring;
    ~FinishRingOnExit() { ring.finish(); }
};

}  // namespace

Engine::Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;
LoadedWeights::LoadedWeights() = default;
LoadedWeights::~LoadedWeights() = default;

std::shared_ptr<const LoadedWeights> LoadedWeights::load(const std::filesystem::path& model_dir,
                                                         int64_t packed_max_bytes) {
    auto model = std::make_shared<LoadedWeights>();
    model->config = load_model_config(model_dir / "config.json");
    model->arch = &arch_for(model->config.model_type);
    // The header may list only what such a model can use (plus buffers and heads): a checkpoint
    // of a million extra tensors is refused before they are read.
    const size_t tensors = weight_tensor_count(model->config, *model->arch);
    const SafetensorsLimits limits = model_archive_limits(
        tensors, model->config.model_type + " with " + std::to_string(model->config.n_layer) +
                     " layers binds " + std::to_string(tensors) + " tensors");
    model->store = std::make_unique<WeightStore>(SafetensorsArchive::open(model_dir, limits));
    bind_weights(*model->store, model->config, *model->arch, model->weights, model_dir.string());
    model->plan_packing(packed_max_bytes);
    return model;
}

std::shared_ptr<const LoadedWeights> LoadedWeights::random(const ModelConfig& config, uint64_t seed,
                                                           int64_t packed_max_bytes) {
    auto model = std::make_shared<LoadedWeights>();
    model->config = config;
    model->arch = &arch_for(config.model_type);
    model->random_storage = bind_random_weights(config, *model->arch, model->weights, seed);
    model->plan_packing(packed_max_bytes);
    return model;
}

// Nothing is packed here: packed_layer does it when an input that runs on packed panels first
// reaches the layer ((out, in) weights up to cpu::panel_max_rows tokens; (in, out) weights only
// past cpu::in_place_max_rows, below which they are read in place), so that the seed sentence,
// an input longer than the panels serve, or a CUDA engine never pays for it.
void LoadedWeights::plan_packing(int64_t max_bytes) {
    const int64_t C = config.d_model, F = config.d_ff, L = config.n_layer;
    const auto padded = [](int64_t n) {
        return (n + cpu::kPanelWidth - 1) / cpu::kPanelWidth * cpu::kPanelWidth;
    };
    const int64_t floats = L * (C * padded(3 * C) + C * padded(C) + C * padded(F) + F * padded(C));
    if (floats * int64_t(sizeof(float)) > max_bytes) return;
    packed_.resize(size_t(L) * kProjectionsPerLayer);
    packed_once_ = std::make_unique<std::once_flag[]>(size_t(L));
}

std::span<const cpu::PackedWeight> LoadedWeights::packed_layer(int layer,
                                                               cpu::ThreadPool& pool) const {
    cpu::PackedWeight* out = &packed_[size_t(layer) * kProjectionsPerLayer];
    std::call_once(packed_once_[size_t(layer)], [&] {
        const int C = config.d_model, F = config.d_ff;
        const LayerWeights& w = weights.layers[size_t(layer)];
        const WeightLayout layout = arch->weight_layout;
        out[int(Projection::Qkv)] = cpu::PackedWeight(pool, w.qkv_weight, C, 3 * C, layout);
        out[int(Projection::AttnOut)] = cpu::PackedWeight(pool, w.attn_out_weight, C, C, layout);
        out[int(Projection::MlpIn)] = cpu::PackedWeight(pool, w.mlp_in_weight, C, F, layout);
        out[int(Projection::MlpOut)] = cpu::PackedWeight(pool, w.mlp_out_weight, F, C, layout);
    });
    return {out, size_t(kProjectionsPerLayer)};
}

size_t LoadedWeights::packed_bytes() const {
    size_t bytes = 0;
    for (const cpu::PackedWeight& weight : packed_) bytes += weight.empty() ? 0 : weight.bytes();
    return bytes;
}

namespace {

// Packed weights serve the CPU fast path, which a CUDA engine does not run.
int64_t packing_budget(const EngineOptions& options) {
    return options.device == Device::Cpu ? options.packed_weights_max_bytes : 0;
}

}  // namespace

Engine Engine::create(std::shared_ptr<const LoadedWeights> weights, const EngineOptions& options) {
    if (!weights) throw Error("Engine::create: no weights", Status::BadArgument);
    Engine engine;
    engine.model_ = std::move(weights);
    engine.allocate(options);
    return engine;
}

Engine Engine::load(const std::filesystem::path& model_dir, const EngineOptions& options) {
    return create(LoadedWeights::load(model_dir, packing_budget(options)), options);
}

Engine Engine::random(const ModelConfig& config, uint64_t seed, const EngineOptions& options) {
    return create(LoadedWeights::random(config, seed, packing_budget(options)), options);
}

int Engine::threads() const {
    return pool_->size();
}

void Engine::allocate(const EngineOptions& options) {
    const int threads = options.threads > 0 ? options.threads
                                            : std::max(1, int(std::thread::hardware_concurrency()));
    max_seq_ = options.max_seq > 0 ? std::min(options.max_seq, model_->config.max_tokens())
                                   : model_->config.max_tokens();
    // All parallelism comes from our pool; OpenBLAS runs single-threaded inside each task.
    blas::set_num_threads(1);
    // The kernel table (kernels/cpu/isa.h) is chosen now, so that a bad HEADMAP_CPU is said
    // before any input is read or output opened.
    if (options.device == Device::Cpu) (void)cpu::kernels();
    pool_ = std::make_unique<cpu::ThreadPool>(threads);
    const size_t S = size_t(max_seq_), C = size_t(model_->config.d_model),
                 F = size_t(model_->config.d_ff), H = size_t(model_->config.n_head);
    fast_ = options.fast;
    if (options.device == Device::Cuda) {
        if (options.ring_slots < 1)
            throw Error("attention ring needs at least 1 slot, got " +
                        std::to_string(options.ring_slots));
        cuda_ = std::make_unique<CudaForward>(model_->config, *model_->arch, model_->weights,
                                              max_seq_, options.ring_slots, options.fast);
        ring_ =
            std::make_unique<AttentionRing>(options.ring_slots, H * S * S, cuda_->ring_storage());
    } else {
        ring_ = std::make_unique<AttentionRing>(options.ring_slots, H * S * S);
    }

    const size_t scratch = size_t(cpu::attention_scratch_floats(threads, max_seq_));
    const size_t total = S * C * 3 + S * 3 * C + S * F + scratch;
    arena_.reset(new float[total]);
    arena_floats_ = total;
    std::span<float> arena(arena_.get(), total);
    size_t offset = 0;
    const auto carve = [&](size_t n) {
        std::span<float> part = arena.subspan(offset, n);
        offset += n;
        return part;
    };
    residual_ = carve(S * C);
    normed_ = carve(S * C);
    qkv_ = carve(S * 3 * C);
    context_ = carve(S * C);
    mlp_ = carve(S * F);
    scratch_ = carve(scratch);
}

void Engine::validate(const ForwardRequest& request) const {
    const size_t S = request.ids.size();
    if (S == 0) throw Error("no tokens to run (the text is empty)");
    if (S > size_t(max_seq_))
        throw Error("text is " + std::to_string(S) + " tokens, more than the model's maximum of " +
                        std::to_string(max_seq_) + " positions (shorten it, or truncate the input)",
                    Status::OutOfRange);
    for (int32_t id : request.ids)
        if (id < 0 || id >= model_->config.vocab_size)
            throw Error("token id " + std::to_string(id) + " out of range (vocab size " +
                        std::to_string(model_->config.vocab_size) + ")");
    if (!request.type_ids.empty()) {
        if (request.type_ids.size() != S)
            throw Error("type_ids has " + std::to_string(request.type_ids.size()) +
                        " entries, expected one per token (" + std::to_string(S) + ")");
        const int types = std::max(1, model_->config.type_vocab_size);
        if (!model_->weights.token_type_embedding.empty())
            for (int32_t type : request.type_ids)
                if (type < 0 || type >= types)
                    throw Error("token type id " + std::to_string(type) +
                                " out of range (the model has " + std::to_string(types) +
                                " token types)");
    }
    if (!request.emit_layers.empty() &&
        request.emit_layers.size() != size_t(model_->config.n_layer))
        throw Error("emit_layers has " + std::to_string(request.emit_layers.size()) +
                    " flags, expected one per layer (" + std::to_string(model_->config.n_layer) +
                    ")");
}

namespace {

// The CPU backend's ops for run_forward_schedule: the arena's spans at this sequence length, the
// Fast kernels (packed projections for short inputs, OpenBLAS otherwise) or the Reference loops.
struct CpuOps {
    const ForwardRequest& request;
    const ModelConfig& config;
    const ModelWeights& weights;
    const LoadedWeights& model;
    cpu::ThreadPool& pool;
    AttentionRing& ring;
    std::span<float> scratch;
    std::span<float> buffers[5];  // indexed by Buffer
    int S;
    WeightLayout layout;
    AttentionShape shape;
    bool fast;
    int maps_published = 0;

    std::span<float> at(Buffer b) const { return buffers[int(b)]; }

    void embed(Buffer out) {
        const EmbeddingTables tables{.token = weights.token_embedding,
                                     .position = weights.position_embedding,
                                     .token_type = weights.token_type_embedding,
                                     .position_offset = config.position_offset,
                                     .position_pad_id = config.position_pad_id};
        (fast ? cpu::embed : reference::embed)(at(out), tables, request.ids, request.type_ids,
                                               config.d_model);
    }
    void layernorm(Buffer out, Buffer in, std::span<const float> w, std::span<const float> b) {
        if (fast)
            cpu::layernorm(pool, at(out), at(in), w, b, S, config.d_model, config.norm_eps);
        else
            reference::layernorm(at(out), at(in), w, b, S, config.d_model, config.norm_eps);
    }
    void linear(int layer, Projection which, Buffer out, Buffer in, std::span<const float> w,
                std::span<const float> b, int K, int N, Epilogue epilogue) {
        if (fast && S <= cpu::in_place_max_rows() && cpu::panels_in_place(layout, N)) {
            cpu::linear_panels(pool, at(out), at(in), cpu::in_place_panels(w, N), b, S, K, N,
                               epilogue);
        } else if (fast && S <= cpu::panel_max_rows() && model.packs()) {
            cpu::linear_packed(pool, at(out), at(in),
                               model.packed_layer(layer, pool)[size_t(which)], b, S, epilogue);
        } else if (fast)
            cpu::linear(pool, at(out), at(in), w, b, S, K, N, layout, epilogue);
        else
            reference::linear(at(out), at(in), w, b, S, K, N, layout, epilogue);
    }
    void attention(int layer, bool emit) {
        const std::span<float> context = at(Buffer::Context), qkv = at(Buffer::Qkv);
        const size_t floats = size_t(shape.n_head) * S * S;
        const std::span<float> maps = emit ? ring.acquire(floats) : std::span<float>{};
        if (fast) {
            cpu::attention(pool, context, maps, scratch, qkv, shape);
        } else if (emit) {
            reference::attention(context, maps, qkv, shape);
        } else {  // the reference path may allocate; it exists for tests
            std::vector<float> discarded(floats);
            reference::attention(context, discarded, qkv, shape);
        }
        tap("context", layer, Buffer::Context);
        if (emit) {
            if (request.tap) request.tap(request.tap_user, "attention", layer, maps);
            ring.publish(layer, S, shape.n_head);
            ++maps_published;
        }
    }
    void tap(const char* name, int layer, Buffer b) {
        if (request.tap) request.tap(request.tap_user, name, layer, at(b));
    }
};

}  // namespace

int Engine::last_layer_for(const ForwardRequest& request) const {
    if (request.hidden || request.emit_layers.empty()) return model_->config.n_layer - 1;
    int last = -1;
    for (int l = 0; l < model_->config.n_layer; ++l)
        if (request.emit_layers[size_t(l)]) last = l;
    return last;
}

ForwardResult Engine::forward(const ForwardRequest& request) {
    FinishRingOnExit finish_ring{*ring_};
    validate(request);
    if (request.device_stats && !(cuda_ && request.backend == Backend::Fast))
        throw Error("device statistics need a CUDA engine (Device::Cuda) on the Fast backend",
                    Status::BadArgument);
    if (cuda_ && request.backend == Backend::Fast)
        return cuda_->forward(request, last_layer_for(request), *ring_, residual_,
                              std::span<float>(arena_.get(), arena_floats_));
    const int S = int(request.ids.size()), C = model_->config.d_model, F = model_->config.d_ff;
    const bool fast = request.backend == Backend::Fast;
    CpuOps ops{.request = request,
               .config = model_->config,
               .weights = model_->weights,
               .model = *model_,
               .pool = *pool_,
               .ring = *ring_,
               .scratch = scratch_,
               .buffers = {residual_.first(size_t(S) * C), normed_.first(size_t(S) * C),
                           qkv_.first(size_t(S) * 3 * C), context_.first(size_t(S) * C),
                           mlp_.first(size_t(S) * F)},
               .S = S,
               .layout = model_->arch->weight_layout,
               .shape = AttentionShape{S, model_->config.n_head, model_->config.head_dim(),
                                       model_->arch->causal},
               .fast = fast};
    ForwardResult result;
    const auto emit = [&](int l) {
        return request.emit_layers.empty() || request.emit_layers[size_t(l)] != 0;
    };
    const Buffer hidden =
        run_forward_schedule(ops, model_->config, *model_->arch, model_->weights,
                             last_layer_for(request), emit, request.hidden, result.layers_computed);
    result.maps_published = ops.maps_published;
    if (request.hidden) result.hidden = ops.at(hidden);
    return result;
}

ForwardResult Engine::run(const ForwardRequest& request,
                          const std::function<void(const AttentionSlot&)>& consumer) {
    ring_->reset();
    std::exception_ptr consumer_error;
    std::thread consumer_thread([&] {
        try {
            while (auto slot = ring_->next()) {
                consumer(*slot);
                ring_->release(*slot);
            }
        } catch (...) {
            consumer_error = std::current_exception();
            ring_->cancel();
        }
    });
    ForwardResult result;
    std::exception_ptr forward_error;
    try {
        result = forward(request);
    } catch (...) {
        forward_error = std::current_exception();
        ring_->cancel();
    }
    consumer_thread.join();
    // The consumer's failure (an unwritable output, say) is the cause of a cancelled forward.
    if (consumer_error) std::rethrow_exception(consumer_error);
    if (forward_error) std::rethrow_exception(forward_error);
    return result;
}

}  // namespace headmap
