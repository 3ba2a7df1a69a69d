// The CUDA backend's implementation, built only into libheadmap_cuda.so (engine/cuda_module.h):
// weights uploaded once, a device activation arena, the shared layer schedule run with cuBLAS and
// the kernels of kernels/cuda. The engine reaches it through CudaForward (cuda_forward.cpp).
#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "engine/cuda/backend.h"
#include "engine/engine.h"
#include "engine/forward_schedule.h"
#include "headmap/error.hpp"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"

namespace headmap {
namespace {

// Every weight tensor the forward reads, for the one upload.
std::vector<std::span<const float>> all_weights(const ModelWeights& w) {
    std::vector<std::span<const float>> spans{
        w.token_embedding, w.position_embedding, w.token_type_embedding, w.embed_norm_weight,
        w.embed_norm_bias, w.final_norm_weight,  w.final_norm_bias};
    for (const LayerWeights& l : w.layers)
        for (std::span<const float> s :
             {l.attn_norm_weight, l.attn_norm_bias, l.qkv_weight, l.qkv_bias, l.attn_out_weight,
              l.attn_out_bias, l.mlp_norm_weight, l.mlp_norm_bias, l.mlp_in_weight, l.mlp_in_bias,
              l.mlp_out_weight, l.mlp_out_bias})
            spans.push_back(s);
    return spans;
}

// Two device map buffers alternate between layers, so layer l+1 computes while l is copied.
constexpr int kMapBuffers = 2;

}  // namespace

struct CudaForward::State {
    ModelConfig config;
    const ArchSpec& arch;  // a static table entry
    // A copy of the engine's spans (the tensors stay where the engine keeps them, which an
    // Engine move does not change); packed_qkv is left out, its spans still point at the engine's.
    ModelWeights weights;
    int max_seq;
    bool fast;
    cuda::Blas blas;
    cuda::Stream compute, copy;
    cuda::DeviceBuffer<float> device_weights;
    std::unordered_map<const float*, const float*> device_of;  // host tensor -> its device copy
    cuda::DeviceBuffer<float> arena;
    float* buffers[5] = {};                              // by Buffer, max_seq rows each
    cuda::DeviceBuffer<int32_t> device_tokens;           // ids, positions, type ids: (3, max_seq)
    cuda::PinnedBuffer<int32_t> host_tokens;             // (3, max_seq)
    cuda::DeviceBuffer<float> device_maps[kMapBuffers];  // (H, S, S) as F32 or F16
    cuda::PinnedBuffer<uint16_t> staging[kMapBuffers];   // F16 maps on the host (fast only)
    cuda::PinnedBuffer<float> ring_storage;
    // Device statistics: per layer, (H, kHeadStatFields) fields then (H, max_seq) column sums.
    size_t stats_per_layer = 0;
    cuda::DeviceBuffer<double> device_stats;    // (L, stats_per_layer)
    cuda::PinnedBuffer<double> host_stats;      // (L, stats_per_layer)
    std::vector<cuda::Event> computed, copied;  // per map buffer
    bool timing = false;
    std::vector<cuda::Event> attention_marks, copy_marks;  // (start, end) per layer
    cuda::Event forward_start{true}, forward_end{true};
    CudaTiming last;

    State(const ModelConfig& c, const ArchSpec& a, const ModelWeights& w, int seq, bool f)
        : config(c), arch(a), max_seq(seq), fast(f) {
        weights.token_embedding = w.token_embedding;
        weights.position_embedding = w.position_embedding;
        weights.token_type_embedding = w.token_type_embedding;
        weights.embed_norm_weight = w.embed_norm_weight;
        weights.embed_norm_bias = w.embed_norm_bias;
        weights.final_norm_weight = w.final_norm_weight;
        weights.final_norm_bias = w.final_norm_bias;
        weights.layers = w.layers;
    }

    const float* on_device(std::span<const float> host) const {
        if (host.empty()) return nullptr;
        return device_of.at(host.data());
    }
};

namespace {

// The CUDA backend's ops for run_forward_schedule. Maps of layer l are published to the ring
// while layer l+1 computes: attention(l) waits for the copy of l-1, publishes it, then queues
// its own copy behind its kernel on the copy stream.
struct CudaOps {
    CudaForward::State& st;
    const ForwardRequest& request;
    AttentionRing& ring;
    std::span<float> tap_host;
    int S;
    AttentionShape shape;
    int maps_published = 0;
    int emitted = 0;  // maps queued so far; buffer emitted % 2 is next
    struct Pending {
        int layer = -1;
        int buffer = 0;
        std::span<float> slot;
    } pending{};

    cudaStream_t stream() const { return st.compute.get(); }
    float* at(Buffer b) const { return st.buffers[int(b)]; }
    cuda::GemmMath math() const { return st.fast ? cuda::GemmMath::Tf32 : cuda::GemmMath::Exact; }
    cuda::MapType map_type() const { return st.fast ? cuda::MapType::F16 : cuda::MapType::F32; }

    void embed(Buffer out) {
        const int32_t* device = st.device_tokens.data();
        cuda::embed(stream(), at(out), st.on_device(st.weights.token_embedding),
                    st.on_device(st.weights.position_embedding),
                    st.on_device(st.weights.token_type_embedding), device, device + st.max_seq,
                    st.weights.token_type_embedding.empty() ? nullptr : device + 2 * st.max_seq, S,
                    st.config.d_model);
    }
    void layernorm(Buffer out, Buffer in, std::span<const float> w, std::span<const float> b) {
        cuda::layernorm(stream(), at(out), at(in), st.on_device(w), st.on_device(b), S,
                        st.config.d_model, st.config.norm_eps);
    }
    void linear(int, Projection, Buffer out, Buffer in, std::span<const float> w,
                std::span<const float> b, int K, int N, Epilogue epilogue) {
        st.blas.linear(stream(), at(out), at(in), st.on_device(w), S, K, N, st.arch.weight_layout,
                       epilogue == Epilogue::Accumulate, math());
        if (!b.empty() || epilogue == Epilogue::GeluTanh || epilogue == Epilogue::GeluErf)
            cuda::bias_epilogue(stream(), at(out), st.on_device(b), S, N, epilogue);
    }
    void attention(int layer, bool emit) {
        const size_t floats = size_t(shape.n_head) * S * S;
        if (emit && request.device_stats) {  // reduce the maps here; only numbers go to the host
            float* maps = st.device_maps[0].data();
            cuda::attention(stream(), at(Buffer::Context), maps, cuda::MapType::F32,
                            at(Buffer::Qkv), shape);
            const size_t H = size_t(shape.n_head), base = size_t(layer) * st.stats_per_layer;
            double* fields = st.device_stats.data() + base;
            double* columns = fields + H * cuda::kHeadStatFields;
            cuda::head_stats(stream(), maps, shape.n_head, S, shape.causal,
                             request.device_stats->threshold, fields,
                             request.device_stats->column_sums ? columns : nullptr);
            cuda::check(cudaMemcpyAsync(st.host_stats.data() + base, fields,
                                        st.stats_per_layer * sizeof(double), cudaMemcpyDeviceToHost,
                                        stream()),
                        "cudaMemcpyAsync (statistics)");
            tap("context", layer, Buffer::Context);
            return;
        }
        if (!emit) {
            cuda::attention(stream(), at(Buffer::Context), nullptr, map_type(), at(Buffer::Qkv),
                            shape);
            tap("context", layer, Buffer::Context);
            return;
        }
        const int buffer = emitted++ % kMapBuffers;
        if (st.timing) st.attention_marks[size_t(2 * layer)].record(stream());
        cuda::attention(stream(), at(Buffer::Context), st.device_maps[buffer].data(), map_type(),
                        at(Buffer::Qkv), shape);
        if (st.timing) st.attention_marks[size_t(2 * layer + 1)].record(stream());
        st.computed[size_t(buffer)].record(stream());
        tap("context", layer, Buffer::Context);
        publish_pending();  // layer l-1's copy ran while this layer computed
        // The ring slot is page-locked (ring_storage), so the copy lands in it directly.
        const std::span<float> slot = ring.acquire(floats);
        cuda::check(cudaStreamWaitEvent(st.copy.get(), st.computed[size_t(buffer)].get(), 0),
                    "cudaStreamWaitEvent");
        if (st.timing) st.copy_marks[size_t(2 * layer)].record(st.copy.get());
        if (st.fast)
            cuda::check(
                cudaMemcpyAsync(st.staging[buffer].data(), st.device_maps[buffer].data(),
                                floats * sizeof(uint16_t), cudaMemcpyDeviceToHost, st.copy.get()),
                "cudaMemcpyAsync (maps)");
        else
            cuda::check(
                cudaMemcpyAsync(slot.data(), st.device_maps[buffer].data(), floats * sizeof(float),
                                cudaMemcpyDeviceToHost, st.copy.get()),
                "cudaMemcpyAsync (maps)");
        if (st.timing) st.copy_marks[size_t(2 * layer + 1)].record(st.copy.get());
        st.copied[size_t(buffer)].record(st.copy.get());
        pending = {layer, buffer, slot};
    }
    // Waits for the queued copy, widens F16 maps into the slot, and publishes it.
    void publish_pending() {
        if (pending.layer < 0) return;
        st.copied[size_t(pending.buffer)].synchronize();
        if (st.fast) {
            const uint16_t* half = st.staging[pending.buffer].data();
            for (size_t i = 0; i < pending.slot.size(); ++i) {
                _Float16 h;
                std::memcpy(&h, &half[i], sizeof h);
                pending.slot[i] = float(h);
            }
        }
        if (request.tap) request.tap(request.tap_user, "attention", pending.layer, pending.slot);
        ring.publish(pending.layer, S, shape.n_head);
        ++maps_published;
        pending.layer = -1;
    }
    void tap(const char* name, int layer, Buffer b) {
        if (!request.tap) return;
        const size_t floats = size_t(S) * (b == Buffer::Qkv   ? 3 * st.config.d_model
                                           : b == Buffer::Mlp ? st.config.d_ff
                                                              : st.config.d_model);
        st.compute.synchronize();
        cuda::check(
            cudaMemcpy(tap_host.data(), at(b), floats * sizeof(float), cudaMemcpyDeviceToHost),
            "cudaMemcpy (tap)");
        request.tap(request.tap_user, name, layer, tap_host.first(floats));
    }
};

}  // namespace

namespace {

// Layer l's statistics, copied to host_stats by the forward, as plain numbers.
void append_device_stats(const CudaForward::State& st, int layer, int S, bool column_sums,
                         std::vector<DeviceHeadStats>& out) {
    const int H = st.config.n_head;
    const double* fields = st.host_stats.data() + size_t(layer) * st.stats_per_layer;
    const double* columns = fields + size_t(H) * cuda::kHeadStatFields;
    for (int h = 0; h < H; ++h) {
        const double* f = fields + size_t(h) * cuda::kHeadStatFields;
        DeviceHeadStats s;
        s.entropy = f[cuda::kStatEntropy];
        s.normalized_entropy = f[cuda::kStatNormalizedEntropy];
        s.sparsity = f[cuda::kStatSparsity];
        s.max = f[cuda::kStatMax];
        s.first = f[cuda::kStatFirst];
        s.previous = f[cuda::kStatPrevious];
        s.self = f[cuda::kStatSelf];
        s.distance = f[cuda::kStatDistance];
        s.local = f[cuda::kStatLocal];
        s.medium = f[cuda::kStatMedium];
        s.global = f[cuda::kStatGlobal];
        s.top5_mass = f[cuda::kStatTop5Mass];
        if (column_sums) s.column_sums.assign(columns + size_t(h) * S, columns + size_t(h + 1) * S);
        out.push_back(std::move(s));
    }
}

}  // namespace

namespace cuda_backend {

bool available(std::string* why) {
    return cuda::device_count(why) > 0;
}

CudaForward::State* create(const ModelConfig& config, const ArchSpec& arch,
                           const ModelWeights& weights, int max_seq, int ring_slots, bool fast) {
    std::string why;
    if (!available(&why)) throw Error("no CUDA device (" + why + ")", Status::NoDevice);
    const int D = config.head_dim();
    if (max_seq > cuda::attention_max_seq(D))
        throw Error("the CUDA attention kernel takes at most " +
                        std::to_string(cuda::attention_max_seq(D)) + " tokens at head size " +
                        std::to_string(D) + ", the model allows " + std::to_string(max_seq) +
                        " (a smaller max_seq, or the CPU)",
                    Status::OutOfRange);
    auto state = std::make_unique<CudaForward::State>(config, arch, weights, max_seq, fast);
    CudaForward::State& st = *state;
    // One upload of every tensor, in a single allocation.
    const std::vector<std::span<const float>> spans = all_weights(weights);
    size_t total = 0;
    for (std::span<const float> s : spans) total += s.size();
    st.device_weights = cuda::DeviceBuffer<float>(total);
    size_t offset = 0;
    for (std::span<const float> s : spans) {
        if (s.empty() || st.device_of.count(s.data())) continue;
        float* device = st.device_weights.data() + offset;
        cuda::check(cudaMemcpy(device, s.data(), s.size_bytes(), cudaMemcpyHostToDevice),
                    "cudaMemcpy (weights)");
        st.device_of[s.data()] = device;
        offset += s.size();
    }
    const size_t S = size_t(max_seq), C = size_t(config.d_model), F = size_t(config.d_ff),
                 H = size_t(config.n_head);
    const size_t sizes[5] = {S * C, S * C, S * 3 * C, S * C, S * F};  // by Buffer
    st.arena = cuda::DeviceBuffer<float>(sizes[0] + sizes[1] + sizes[2] + sizes[3] + sizes[4]);
    offset = 0;
    for (int b = 0; b < 5; ++b) {
        st.buffers[b] = st.arena.data() + offset;
        offset += sizes[b];
    }
    st.device_tokens = cuda::DeviceBuffer<int32_t>(3 * S);
    st.host_tokens = cuda::PinnedBuffer<int32_t>(3 * S);
    for (int b = 0; b < kMapBuffers; ++b) {
        st.device_maps[b] = cuda::DeviceBuffer<float>(H * S * S);
        if (fast) st.staging[b] = cuda::PinnedBuffer<uint16_t>(H * S * S);
        st.computed.emplace_back(false);
        st.copied.emplace_back(false);
    }
    st.ring_storage = cuda::PinnedBuffer<float>(size_t(ring_slots) * H * S * S);
    st.stats_per_layer = H * (cuda::kHeadStatFields + S);
    st.device_stats = cuda::DeviceBuffer<double>(size_t(config.n_layer) * st.stats_per_layer);
    st.host_stats = cuda::PinnedBuffer<double>(size_t(config.n_layer) * st.stats_per_layer);
    for (int i = 0; i < 2 * config.n_layer; ++i) {
        st.attention_marks.emplace_back(true);
        st.copy_marks.emplace_back(true);
    }
    return state.release();
}

void destroy(CudaForward::State* state) {
    delete state;
}

std::span<float> ring_storage(CudaForward::State& st) {
    return {st.ring_storage.data(), st.ring_storage.size()};
}

std::string device(const CudaForward::State&) {
    int device = 0;
    cuda::check(cudaGetDevice(&device), "cudaGetDevice");
    return cuda::device_description(device);
}

void set_timing(CudaForward::State& st, bool on) {
    st.timing = on;
}

CudaTiming last_timing(const CudaForward::State& st) {
    return st.last;
}

CudaBandwidth measure_bandwidth(size_t bytes) {
    cuda::Stream stream;
    cuda::DeviceBuffer<uint8_t> device(bytes);
    cuda::PinnedBuffer<uint8_t> host(bytes);
    cuda::Event start(true), end(true);
    const auto best_gbps = [&](auto&& enqueue) {
        double best = 0;
        for (int trial = -1; trial < 5; ++trial) {  // trial -1 warms up
            start.record(stream.get());
            enqueue();
            end.record(stream.get());
            end.synchronize();
            if (trial >= 0)
                best = std::max(best, double(bytes) / (end.milliseconds_since(start) * 1e6));
        }
        return best;
    };
    CudaBandwidth bw;
    bw.device_write_gbps = best_gbps([&] {
        cuda::check(cudaMemsetAsync(device.data(), 0, bytes, stream.get()), "cudaMemsetAsync");
    });
    bw.device_to_host_gbps = best_gbps([&] {
        cuda::check(cudaMemcpyAsync(host.data(), device.data(), bytes, cudaMemcpyDeviceToHost,
                                    stream.get()),
                    "cudaMemcpyAsync");
    });
    return bw;
}

ForwardResult forward(CudaForward::State& st, const ForwardRequest& request, int last_layer,
                      AttentionRing& ring, std::span<float> hidden_host,
                      std::span<float> tap_host) {
    const int S = int(request.ids.size());
    // A forward that threw (a cancelled ring) may have left work queued; start from a quiet device.
    st.compute.synchronize();
    st.copy.synchronize();
    if (st.timing) st.forward_start.record(st.compute.get());
    // Token ids, position ids (the CPU embed's rule, RoBERTa's padding included) and type ids.
    int32_t* ids = st.host_tokens.data();
    int32_t* positions = ids + st.max_seq;
    int32_t* types = ids + 2 * st.max_seq;
    int counted = 0;
    for (int s = 0; s < S; ++s) {
        ids[s] = request.ids[size_t(s)];
        positions[s] = st.config.position_offset + s;
        if (st.config.position_pad_id >= 0)
            positions[s] = ids[s] == st.config.position_pad_id
                               ? st.config.position_offset - 1
                               : st.config.position_offset + counted++;
        types[s] = request.type_ids.empty() ? 0 : request.type_ids[size_t(s)];
    }
    cuda::check(cudaMemcpyAsync(st.device_tokens.data(), st.host_tokens.data(),
                                3 * size_t(st.max_seq) * sizeof(int32_t), cudaMemcpyHostToDevice,
                                st.compute.get()),
                "cudaMemcpyAsync (tokens)");
    CudaOps ops{.st = st,
                .request = request,
                .ring = ring,
                .tap_host = tap_host,
                .S = S,
                .shape = AttentionShape{S, st.config.n_head, st.config.head_dim(), st.arch.causal}};
    ForwardResult result;
    const auto emit = [&](int l) {
        return request.emit_layers.empty() || request.emit_layers[size_t(l)] != 0;
    };
    const Buffer hidden = run_forward_schedule(ops, st.config, st.arch, st.weights, last_layer,
                                               emit, request.hidden, result.layers_computed);
    ops.publish_pending();
    if (request.hidden) {
        const size_t floats = size_t(S) * st.config.d_model;
        cuda::check(cudaMemcpyAsync(hidden_host.data(), ops.at(hidden), floats * sizeof(float),
                                    cudaMemcpyDeviceToHost, st.compute.get()),
                    "cudaMemcpyAsync (hidden)");
        result.hidden = hidden_host.first(floats);
    }
    st.compute.synchronize();
    result.maps_published = ops.maps_published;
    if (request.device_stats && request.device_stats->out)
        for (int l = 0; l < result.layers_computed; ++l)
            if (emit(l))
                append_device_stats(st, l, S, request.device_stats->column_sums,
                                    *request.device_stats->out);
    if (st.timing) {
        st.forward_end.record(st.compute.get());
        st.forward_end.synchronize();
        st.last = CudaTiming{};
        st.last.forward_ms = st.forward_end.milliseconds_since(st.forward_start);
        for (int l = 0; l < result.layers_computed; ++l) {
            if (!emit(l)) continue;
            st.last.attention_ms += st.attention_marks[size_t(2 * l + 1)].milliseconds_since(
                st.attention_marks[size_t(2 * l)]);
            st.last.transfer_ms +=
                st.copy_marks[size_t(2 * l + 1)].milliseconds_since(st.copy_marks[size_t(2 * l)]);
            st.last.map_bytes += double(st.config.n_head) * S * S * (st.fast ? 2 : 4);
        }
    }
    return result;
}

}  // namespace cuda_backend
}  // namespace headmap
