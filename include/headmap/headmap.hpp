// headmap.hpp: a header-only C++20 face over the C API (headmap.h), so that libheadmap's ABI
// stays the C API alone. RAII handles, std::span, and one exception type carrying the status.
//
//   auto model = headmap::Model::load("gpt2");
//   auto maps = model.capture("A new sentence", {.layers = "-1"});
//   headmap::render_heatmap(maps.mean_heads(-1), "heat.png");
//   maps.save("attn.npz");
//
// Threads: a Model may be shared by threads; a Context (Model::context()) belongs to one thread
// at a time; Model::capture makes a short-lived Context per call. Every failure throws
// headmap::ApiError with the C status and the library's one-line message.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "headmap/headmap.h"

namespace headmap {

class ApiError : public std::runtime_error {
  public:
    ApiError(hm_status status, const std::string& message)
        : std::runtime_error(message), status_(status) {}
    hm_status status() const noexcept { return status_; }

  private:
    hm_status status_;
};

inline void check(hm_status status) {
    if (status != HM_OK) throw ApiError(status, hm_last_error());
}

constexpr int kHeadMean = HM_HEAD_MEAN;
constexpr int kHeadMax = HM_HEAD_MAX;

struct CaptureOptions {
    const char* layers = "all";
    const char* heads = "all";
    const char* pair = nullptr;
    bool truncate = false;
    bool words = false;
    // Called per layer as its maps leave the ring: (layer, n_heads, n_q, n_k, maps); return
    // false to cancel.
    std::function<bool(int, int, int, int, std::span<const float>)> on_layer = nullptr;
};

// Captured or read maps: (layers, heads, seq, seq) with their tokens.
class Map;

// Captured or saved maps. Immutable: copies share one hm_maps.
class Maps {
  public:
    explicit Maps(hm_maps* maps) : maps_(maps, &hm_maps_free) {}
    static Maps read(const std::string& path) {
        hm_maps* maps = nullptr;
        check(hm_maps_read_file(path.c_str(), nullptr, &maps));
        return Maps(maps);
    }

    hm_maps_info info() const {
        hm_maps_info info{};
        check(hm_maps_get_info(maps_.get(), &info));
        return info;
    }
    std::span<const float> values() const {
        const hm_maps_info i = info();
        return {hm_maps_data(maps_.get()),
                size_t(i.n_layers) * size_t(i.n_heads) * size_t(i.seq) * size_t(i.seq)};
    }
    std::vector<std::string> tokens() const {
        std::vector<std::string> out;
        for (int i = 0; const char* token = hm_maps_token(maps_.get(), i); ++i)
            out.emplace_back(token);
        return out;
    }
    // One (seq, seq) map: model layer (negative from the last held), head or kHeadMean/kHeadMax.
    std::vector<float> map(int layer, int head) const {
        const int seq = info().seq;
        std::vector<float> out(size_t(seq) * size_t(seq));
        check(hm_maps_select(maps_.get(), layer, head, out.data(), out.size()));
        return out;
    }
    // One map to draw or read: a head of a layer, or the mean or max over its heads.
    Map head(int layer, int head) const;
    Map mean_heads(int layer) const;
    Map max_heads(int layer) const;
    hm_head_stats stats(int layer, int head, double threshold = 0.01) const {
        hm_head_stats s{};
        check(hm_head_stats_compute(maps_.get(), layer, head, threshold, &s));
        return s;
    }
    Maps words() const {
        hm_maps* merged = nullptr;
        check(hm_maps_merge_words(maps_.get(), &merged));
        return Maps(merged);
    }
    // .npy, .npz, .safetensors or .json, written atomically.
    void save(const std::string& path) const { check(hm_export_file(maps_.get(), path.c_str())); }
    std::vector<std::byte> to_bytes(int format) const {
        hm_buffer buffer{nullptr, 0};
        check(hm_export_memory(maps_.get(), format, &buffer));
        const auto* data = static_cast<const std::byte*>(buffer.data);
        std::vector<std::byte> bytes(data, data + buffer.size);
        hm_buffer_free(&buffer);
        return bytes;
    }
    const hm_maps* get() const { return maps_.get(); }

  private:
    std::shared_ptr<hm_maps> maps_;
};

// One (seq, seq) map of a Maps (which it keeps alive): what render_heatmap draws.
class Map {
  public:
    Map(Maps maps, int layer, int head) : maps_(std::move(maps)), layer_(layer), head_(head) {}
    std::vector<float> values() const { return maps_.map(layer_, head_); }
    const Maps& maps() const { return maps_; }
    int layer() const { return layer_; }
    int head() const { return head_; }

  private:
    Maps maps_;
    int layer_, head_;
};

inline Map Maps::head(int layer, int head) const {
    return Map(*this, layer, head);
}
inline Map Maps::mean_heads(int layer) const {
    return Map(*this, layer, kHeadMean);
}
inline Map Maps::max_heads(int layer) const {
    return Map(*this, layer, kHeadMax);
}

namespace detail {
inline bool forward_layer(void* user, int layer, int heads, int n_q, int n_k, const float* maps) {
    const auto& fn = *static_cast<const CaptureOptions*>(user);
    try {
        return fn.on_layer(layer, heads, n_q, n_k,
                           {maps, size_t(heads) * size_t(n_q) * size_t(n_k)});
    } catch (...) {
        return false;  // an exception must not cross the C library
    }
}
}  // namespace detail

// Per-run state (arena, ring, threads): one per thread.
class Context {
  public:
    explicit Context(hm_context* ctx) : ctx_(ctx, &hm_context_free) {}
    Maps capture(const std::string& text, const CaptureOptions& options = {}) {
        hm_capture_params p = hm_capture_default_params();
        p.text = text.c_str();
        p.pair = options.pair;
        p.layers = options.layers;
        p.heads = options.heads;
        p.truncate = options.truncate;
        p.words = options.words;
        if (options.on_layer) {
            p.on_layer = &detail::forward_layer;
            p.user_data = const_cast<CaptureOptions*>(&options);
        }
        hm_maps* maps = nullptr;
        const hm_status status = hm_capture(ctx_.get(), &p, &maps);
        if (status != HM_OK) throw ApiError(status, hm_context_last_error(ctx_.get()));
        return Maps(maps);
    }

  private:
    std::unique_ptr<hm_context, void (*)(hm_context*)> ctx_;
};

class Model {
  public:
    // A directory, a weights name or a Hugging Face cache id; empty: the default model.
    static Model load(const std::string& model = "") {
        hm_model* loaded = nullptr;
        check(hm_model_load(model.empty() ? nullptr : model.c_str(), nullptr, &loaded));
        return Model(loaded);
    }
    hm_model_info info() const {
        hm_model_info info{};
        check(hm_model_get_info(model_.get(), &info));
        return info;
    }
    Context context(const hm_context_params& params = hm_context_default_params()) const {
        hm_context* ctx = nullptr;
        check(hm_context_new(model_.get(), &params, &ctx));
        return Context(ctx);
    }
    Maps capture(const std::string& text, const CaptureOptions& options = {}) const {
        return context().capture(text, options);
    }
    std::vector<int32_t> tokenize(const std::string& text, const char* pair = nullptr) const {
        const hm_input input{text.c_str(), pair, false};
        size_t n = 0;
        const hm_status status =
            hm_tokenize(model_.get(), &input, nullptr, nullptr, nullptr, 0, &n);
        if (status != HM_ERR_BUFFER_TOO_SMALL) check(status);
        std::vector<int32_t> ids(n);
        check(hm_tokenize(model_.get(), &input, ids.data(), nullptr, nullptr, ids.size(), &n));
        return ids;
    }
    const hm_model* get() const { return model_.get(); }

  private:
    explicit Model(hm_model* model) : model_(model, &hm_model_free) {}
    std::shared_ptr<hm_model> model_;
};

// Pictures: the format from the extension (.png, .svg, .pdf), written atomically.
inline void render_heatmap(const Maps& maps, int layer, int head, const std::string& path,
                           const hm_render_params& params = hm_render_default_params()) {
    hm_render_params p = params;
    p.format = HM_FORMAT_AUTO;
    check(hm_render_heatmap_file(maps.get(), layer, head, &p, path.c_str()));
}
inline void render_heatmap(const Map& map, const std::string& path,
                           const hm_render_params& params = hm_render_default_params()) {
    render_heatmap(map.maps(), map.layer(), map.head(), path, params);
}
inline void render_grid(const Maps& maps, const std::string& path,
                        const hm_render_params& params = hm_render_default_params()) {
    hm_render_params p = params;
    p.format = HM_FORMAT_AUTO;
    check(hm_render_grid_file(maps.get(), &p, path.c_str()));
}

}  // namespace headmap
