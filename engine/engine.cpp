#include "engine/engine.h"

#include <cblas.h>

#include <exception>
#include <string>
#include <thread>

#include "engine/error.h"
#include "engine/safetensors.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/packed_linear.h"

namespace headmap {
namespace {

constexpr int kPackedPerLayer = 4;  // qkv, attn_out, mlp_in, mlp_out

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

int Engine::threads() const {
    return pool_->size();
}

Engine Engine::load(const std::filesystem::path& model_dir, const EngineOptions& options) {
    Engine engine;
    engine.config_ = load_model_config(model_dir / "config.json");
    engine.arch_ = &arch_for(engine.config_.model_type);
    engine.store_ = std::make_unique<WeightStore>(SafetensorsArchive::open(model_dir));
    bind_weights(*engine.store_, engine.config_, *engine.arch_, engine.weights_,
                 model_dir.string());
    engine.allocate(options);
    return engine;
}

Engine Engine::random(const ModelConfig& config, uint64_t seed, const EngineOptions& options) {
    Engine engine;
    engine.config_ = config;
    engine.arch_ = &arch_for(config.model_type);
    engine.random_storage_ = bind_random_weights(config, *engine.arch_, engine.weights_, seed);
    engine.allocate(options);
    return engine;
}

void Engine::allocate(const EngineOptions& options) {
    const int threads = options.threads > 0 ? options.threads
                                            : std::max(1, int(std::thread::hardware_concurrency()));
    max_seq_ = options.max_seq > 0 ? std::min(options.max_seq, config_.max_tokens())
                                   : config_.max_tokens();
    // All parallelism comes from our pool; OpenBLAS runs single-threaded inside each task.
    openblas_set_num_threads(1);
    pool_ = std::make_unique<cpu::ThreadPool>(threads);
    const size_t S = size_t(max_seq_), C = size_t(config_.d_model), F = size_t(config_.d_ff),
                 H = size_t(config_.n_head);
    ring_ = std::make_unique<AttentionRing>(options.ring_slots, H * S * S);

    const size_t scratch = size_t(cpu::attention_scratch_floats(threads, max_seq_));
    const size_t total = S * C * 3 + S * 3 * C + S * F + scratch;
    arena_.reset(new float[total]);
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
    pack_weights(options.packed_weights_max_bytes);
}

void Engine::pack_weights(int64_t max_bytes) {
    const int64_t C = config_.d_model, F = config_.d_ff, L = config_.n_layer;
    const auto padded = [](int64_t n) {
        return (n + cpu::kPanelWidth - 1) / cpu::kPanelWidth * cpu::kPanelWidth;
    };
    const int64_t floats = L * (C * padded(3 * C) + C * padded(C) + C * padded(F) + F * padded(C));
    if (floats * int64_t(sizeof(float)) > max_bytes) return;
    packed_.resize(size_t(L) * kPackedPerLayer);
    const WeightLayout layout = arch_->weight_layout;
    // Layers are independent: pack them on the pool's threads.
    pool_->run(int(L), [&](int l, int) {
        const LayerWeights& w = weights_.layers[size_t(l)];
        cpu::PackedWeight* out = &packed_[size_t(l) * kPackedPerLayer];
        out[0] = cpu::PackedWeight(w.qkv_weight, int(C), int(3 * C), layout);
        out[1] = cpu::PackedWeight(w.attn_out_weight, int(C), int(C), layout);
        out[2] = cpu::PackedWeight(w.mlp_in_weight, int(C), int(F), layout);
        out[3] = cpu::PackedWeight(w.mlp_out_weight, int(F), int(C), layout);
    });
}

void Engine::validate(const ForwardRequest& request) const {
    const size_t S = request.ids.size();
    if (S == 0) throw Error("no tokens to run (the text is empty)");
    if (S > size_t(max_seq_))
        throw Error("text is " + std::to_string(S) + " tokens, more than the model's maximum of " +
                    std::to_string(max_seq_) + " positions (shorten it or pass --truncate)");
    for (int32_t id : request.ids)
        if (id < 0 || id >= config_.vocab_size)
            throw Error("token id " + std::to_string(id) + " out of range (vocab size " +
                        std::to_string(config_.vocab_size) + ")");
    if (!request.type_ids.empty()) {
        if (request.type_ids.size() != S)
            throw Error("type_ids has " + std::to_string(request.type_ids.size()) +
                        " entries, expected one per token (" + std::to_string(S) + ")");
        const int types = std::max(1, config_.type_vocab_size);
        if (!weights_.token_type_embedding.empty())
            for (int32_t type : request.type_ids)
                if (type < 0 || type >= types)
                    throw Error("token type id " + std::to_string(type) +
                                " out of range (the model has " + std::to_string(types) +
                                " token types)");
    }
    if (!request.emit_layers.empty() && request.emit_layers.size() != size_t(config_.n_layer))
        throw Error("emit_layers has " + std::to_string(request.emit_layers.size()) +
                    " flags, expected one per layer (" + std::to_string(config_.n_layer) + ")");
}

ForwardResult Engine::forward(const ForwardRequest& request) {
    FinishRingOnExit finish_ring{*ring_};
    validate(request);
    const int S = int(request.ids.size()), C = config_.d_model, F = config_.d_ff,
              H = config_.n_head, D = config_.head_dim();
    const bool fast = request.backend == Backend::Fast;
    const WeightLayout layout = arch_->weight_layout;
    cpu::ThreadPool& pool = *pool_;

    int last_layer = config_.n_layer - 1;
    if (!request.hidden && !request.emit_layers.empty()) {
        last_layer = -1;
        for (int l = 0; l < config_.n_layer; ++l)
            if (request.emit_layers[size_t(l)]) last_layer = l;
    }
    // Views of the arena at this sequence length.
    const std::span<float> x = residual_.first(size_t(S) * C);       // (S, C)
    const std::span<float> normed = normed_.first(size_t(S) * C);    // (S, C)
    const std::span<float> qkv = qkv_.first(size_t(S) * 3 * C);      // (S, 3C)
    const std::span<float> context = context_.first(size_t(S) * C);  // (S, C)
    const std::span<float> mlp = mlp_.first(size_t(S) * F);          // (S, F)
    const auto tap = [&](const char* name, int layer, std::span<const float> data) {
        if (request.tap) request.tap(request.tap_user, name, layer, data);
    };
    const bool packed = fast && !packed_.empty() && S <= cpu::kPackedMaxRows;
    // which: 0 qkv, 1 attn_out, 2 mlp_in, 3 mlp_out (the order of packed_ within a layer)
    const auto linear = [&](int layer, int which, std::span<float> out, std::span<const float> in,
                            std::span<const float> w, std::span<const float> b, int K, int N,
                            Epilogue epilogue) {
        if (packed)
            cpu::linear_packed(pool, out, in, packed_[size_t(layer) * kPackedPerLayer + which], b,
                               S, epilogue);
        else if (fast)
            cpu::linear(pool, out, in, w, b, S, K, N, layout, epilogue);
        else
            reference::linear(out, in, w, b, S, K, N, layout, epilogue);
    };
    const auto layernorm = [&](std::span<float> out, std::span<const float> in,
                               std::span<const float> w, std::span<const float> b) {
        if (fast)
            cpu::layernorm(pool, out, in, w, b, S, C, config_.norm_eps);
        else
            reference::layernorm(out, in, w, b, S, C, config_.norm_eps);
    };

    ForwardResult result;
    const EmbeddingTables tables{.token = weights_.token_embedding,
                                 .position = weights_.position_embedding,
                                 .token_type = weights_.token_type_embedding,
                                 .position_offset = config_.position_offset,
                                 .position_pad_id = config_.position_pad_id};
    const bool post_norm = arch_->norm_placement == NormPlacement::PostLN;
    if (weights_.embed_norm_weight.empty()) {
        (fast ? cpu::embed : reference::embed)(x, tables, request.ids, request.type_ids, C);
    } else {  // BERT: the embedding sum is normalised before the first layer
        (fast ? cpu::embed : reference::embed)(normed, tables, request.ids, request.type_ids, C);
        layernorm(x, normed, weights_.embed_norm_weight, weights_.embed_norm_bias);
    }
    tap("embeddings", -1, x);
    const AttentionShape shape{S, H, D, arch_->causal};
    // x (S, C) holds each layer's input and output. PreLN: x += attn(norm(x)); x += mlp(norm(x)).
    // PostLN: normed = norm(x + attn(x)); x = norm(normed + mlp(normed)).
    for (int l = 0; l <= last_layer; ++l) {
        const LayerWeights& w = weights_.layers[size_t(l)];
        if (!post_norm) {
            layernorm(normed, x, w.attn_norm_weight, w.attn_norm_bias);
            tap("attn_norm", l, normed);
        }
        linear(l, 0, qkv, post_norm ? x : normed, w.qkv_weight, w.qkv_bias, C, 3 * C,
               Epilogue::Store);
        tap("qkv", l, qkv);
        const bool emit = request.emit_layers.empty() || request.emit_layers[size_t(l)];
        const std::span<float> maps = emit ? ring_->acquire(size_t(H) * S * S) : std::span<float>{};
        if (fast) {
            cpu::attention(pool, context, maps, scratch_, qkv, shape);
        } else if (emit) {
            reference::attention(context, maps, qkv, shape);
        } else {  // the reference path may allocate; it exists for tests
            std::vector<float> discarded(size_t(H) * S * S);
            reference::attention(context, discarded, qkv, shape);
        }
        tap("context", l, context);
        if (emit) {
            tap("attention", l, maps);
            ring_->publish(l, S, H);
            ++result.maps_published;
        }
        linear(l, 1, x, context, w.attn_out_weight, w.attn_out_bias, C, C, Epilogue::Accumulate);
        tap("attn_residual", l, x);
        layernorm(normed, x, post_norm ? w.attn_norm_weight : w.mlp_norm_weight,
                  post_norm ? w.attn_norm_bias : w.mlp_norm_bias);
        tap(post_norm ? "attn_norm" : "mlp_norm", l, normed);
        linear(l, 2, mlp, normed, w.mlp_in_weight, w.mlp_in_bias, C, F,
               gelu_epilogue(config_.activation));
        tap("mlp_act", l, mlp);
        const std::span<float> mlp_residual = post_norm ? normed : x;
        linear(l, 3, mlp_residual, mlp, w.mlp_out_weight, w.mlp_out_bias, F, C,
               Epilogue::Accumulate);
        tap("mlp_residual", l, mlp_residual);
        if (post_norm) {
            layernorm(x, normed, w.mlp_norm_weight, w.mlp_norm_bias);
            tap("mlp_norm", l, x);
        }
        result.layers_computed = l + 1;
    }
    if (request.hidden) {
        if (!weights_.final_norm_weight.empty()) {
            layernorm(normed, x, weights_.final_norm_weight, weights_.final_norm_bias);
            result.hidden = normed;
        } else {
            result.hidden = x;
        }
        tap("hidden", config_.n_layer - 1, result.hidden);
    }
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
