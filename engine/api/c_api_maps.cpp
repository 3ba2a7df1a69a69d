// The C API's maps: reading them, selecting one map, words, statistics, rollout, export, saved
// maps, and drawing captured maps through the drawing room's entry points (hm_render_matrix,
// hm_render_stack), so that this room never includes viz/.
#include <cstdlib>
#include <cstring>
#include <limits>

#include "engine/analysis/analysis.h"
#include "engine/api/handles.h"
#include "engine/capture/export.h"
#include "engine/capture/saved_maps.h"
#include "engine/output_file.h"
#include "engine/read_file.h"
#include "headmap/error.hpp"

using namespace headmap;

namespace headmap::api {

int resolve_layer(const AttentionMaps& maps, int layer) {
    const int held = int(maps.layers.size());
    if (layer < 0 && layer >= -held) return maps.layers[size_t(held + layer)];
    if (std::find(maps.layers.begin(), maps.layers.end(), layer) != maps.layers.end()) return layer;
    throw Error("layer " + std::to_string(layer) + " is not held (the maps hold " +
                    std::to_string(held) + " layers; negative counts from the last held)",
                Status::OutOfRange);
}

std::string head_spec(const AttentionMaps& maps, int head, bool allow_reductions) {
    if (allow_reductions && head == HM_HEAD_MEAN) return "mean";
    if (allow_reductions && head == HM_HEAD_MAX) return "max";
    const int i = head < 0 ? head + maps.n_head : head;
    if (i < 0 || i >= maps.n_head)
        throw Error("head " + std::to_string(head) + " is out of range (0.." +
                        std::to_string(maps.n_head - 1) + ", negative from the end" +
                        (allow_reductions ? ", HM_HEAD_MEAN or HM_HEAD_MAX)" : ")"),
                    Status::OutOfRange);
    return std::to_string(i);
}

}  // namespace headmap::api

namespace {

void check_capacity(size_t capacity, size_t needed, const char* what) {
    if (capacity < needed)
        throw Error(std::string(what) + " needs " + std::to_string(needed) +
                        " floats, the buffer holds " + std::to_string(capacity),
                    Status::BufferTooSmall);
}

// A copy the caller frees with hm_buffer_free (malloc: a C caller may free it too).
void fill_buffer(hm_buffer* out, const void* data, size_t size) {
    void* copy = std::malloc(size ? size : 1);
    if (!copy) throw std::bad_alloc();
    if (size) std::memcpy(copy, data, size);
    out->data = copy;
    out->size = size;
}

bool append_to_vector(void* user_data, const void* data, size_t size) {
    auto* bytes = static_cast<std::vector<std::byte>*>(user_data);
    const auto* begin = static_cast<const std::byte*>(data);
    bytes->insert(bytes->end(), begin, begin + size);
    return true;
}

// Runs a render entry point into memory; its status and message pass through unchanged.
std::vector<std::byte> render_bytes(auto&& render) {
    std::vector<std::byte> bytes;
    const hm_status status = render(&append_to_vector, &bytes);
    if (status != HM_OK) throw Error(api::last_error_message, Status(status));
    return bytes;
}

void write_atomically(const char* path, std::span<const std::byte> bytes) {
    AtomicOutputFile file(path);
    file.write(bytes);
    file.commit();
}

int picture_format(const hm_render_params& p, const char* path) {
    if (p.format != HM_FORMAT_AUTO || path == nullptr) return p.format;
    const std::string ext = lower_extension(path);
    if (ext == ".png") return HM_FORMAT_PNG;
    if (ext == ".svg") return HM_FORMAT_SVG;
    if (ext == ".pdf") return HM_FORMAT_PDF;
    throw Error(std::string(path) + ": unsupported picture format (expected .png, .svg or .pdf)",
                Status::Unsupported);
}

std::vector<std::byte> heatmap_bytes(const hm_maps* maps, int layer, int head,
                                     const hm_render_params& p) {
    api::require(maps, "maps");
    const AttentionMaps& m = maps->maps;
    const int model_layer = api::resolve_layer(m, layer);
    const std::string spec = api::head_spec(m, head, true);
    const std::vector<float> map = select_map(m, model_layer, spec);
    std::vector<const char*> labels;
    for (const std::string& token : m.tokens) labels.push_back(token.c_str());
    const std::string title = "Layer " + std::to_string(model_layer) + ", " +
                              (spec == "mean"  ? std::string("mean of heads")
                               : spec == "max" ? std::string("max of heads")
                                               : "head " + spec);
    hm_render_params params = p;
    if (!params.title) params.title = title.c_str();
    const hm_matrix matrix{map.data(),    m.seq,    m.seq,  labels.data(),
                           labels.data(), m.causal, m.split};
    return render_bytes([&](hm_write_fn write, void* user) {
        return hm_render_matrix(&matrix, &params, write, user);
    });
}

std::vector<std::byte> grid_bytes(const hm_maps* maps, const hm_render_params& p) {
    api::require(maps, "maps");
    const AttentionMaps& m = maps->maps;
    const hm_map_stack stack{m.values.data(), int(m.layers.size()), m.n_head, m.seq,
                             m.layers.data(), maps->heads.data(),   m.causal};
    return render_bytes(
        [&](hm_write_fn write, void* user) { return hm_render_stack(&stack, &p, write, user); });
}

ExportContents export_contents(const hm_maps* maps) {
    const AttentionMaps& m = maps->maps;
    ExportContents c;
    c.maps = m.values;
    c.seq = m.seq;
    c.model = m.name;
    c.config = maps->config;
    c.ids = maps->ids;
    c.type_ids = maps->type_ids;
    c.tokens = m.tokens;
    c.layers = m.layers;
    c.heads = maps->heads;
    c.word_ids.assign(m.word_of_token.begin(), m.word_of_token.end());
    return c;
}

ExportFormat export_format_of(int format) {
    switch (format) {
        case HM_FORMAT_NPY:
            return ExportFormat::Npy;
        case HM_FORMAT_NPZ:
            return ExportFormat::Npz;
        case HM_FORMAT_SAFETENSORS:
            return ExportFormat::Safetensors;
        case HM_FORMAT_JSON:
            return ExportFormat::Json;
        default:
            throw Error("export format " + std::to_string(format) +
                            " (expected HM_FORMAT_NPY, _NPZ, _SAFETENSORS or _JSON)",
                        Status::BadArgument);
    }
}

hm_status read_maps(std::span<const std::byte> bytes, const hm_read_params& p, const char* path,
                    hm_maps** out) {
    return api::call([&] {
        const std::string where = path ? std::string(path) : std::string("maps in memory");
        std::optional<SavedMapsFormat> format;
        if (p.format == HM_FORMAT_NPY)
            format = SavedMapsFormat::Npy;
        else if (p.format == HM_FORMAT_SAFETENSORS)
            format = SavedMapsFormat::Safetensors;
        else if (p.format == HM_FORMAT_NPZ)
            format = SavedMapsFormat::Npz;
        else if (p.format == HM_FORMAT_AUTO && path)
            format = saved_maps_format_for(path);
        if (!format)
            throw Error(where + ": saved maps are .npy, .npz or .safetensors (set params->format)",
                        Status::Unsupported);
        auto maps = std::make_unique<hm_maps>();
        maps->maps = read_saved_maps(
            bytes, *format, {p.tensor ? p.tensor : "", p.layers ? p.layers : "all"}, where);
        maps->maps.name = where;
        if (p.tokens) {
            if (p.n_tokens < 0) throw Error("params n_tokens is negative", Status::BadArgument);
            std::vector<std::string> tokens;
            for (int i = 0; i < p.n_tokens; ++i) {
                api::require(p.tokens[i], "a token");
                tokens.emplace_back(p.tokens[i]);
            }
            set_tokens(maps->maps, std::move(tokens));
        }
        if (p.split != -1) {
            if (p.split < 1 || p.split >= maps->maps.seq)
                throw Error("params split " + std::to_string(p.split) + " (expected -1 or 1.." +
                                std::to_string(maps->maps.seq - 1) + ")",
                            Status::OutOfRange);
            maps->maps.split = p.split;
        }
        for (int h = 0; h < maps->maps.n_head; ++h) maps->heads.push_back(h);
        *out = maps.release();
    });
}

}  // namespace

extern "C" {

hm_status hm_maps_get_info(const hm_maps* maps, hm_maps_info* out) {
    return api::call([&] {
        api::require(maps, "maps");
        api::require(out, "out");
        const AttentionMaps& m = maps->maps;
        out->n_layers = int(m.layers.size());
        out->n_heads = m.n_head;
        out->seq = m.seq;
        out->n_layer = m.n_layer;
        out->split = m.split;
        out->causal = m.causal;
        out->by_words = !m.word_of_token.empty();
    });
}

const float* hm_maps_data(const hm_maps* maps) {
    return maps && !maps->maps.values.empty() ? maps->maps.values.data() : nullptr;
}

int hm_maps_layer(const hm_maps* maps, int i) {
    if (!maps || i < 0 || i >= int(maps->maps.layers.size())) return -1;
    return maps->maps.layers[size_t(i)];
}

const char* hm_maps_token(const hm_maps* maps, int i) {
    if (!maps || i < 0 || i >= int(maps->maps.tokens.size())) return nullptr;
    return maps->maps.tokens[size_t(i)].c_str();
}

hm_status hm_maps_select(const hm_maps* maps, int layer, int head, float* out, size_t capacity) {
    return api::call([&] {
        api::require(maps, "maps");
        const AttentionMaps& m = maps->maps;
        if (m.values.empty())
            throw Error("these maps were streamed, not collected", Status::BadArgument);
        const int model_layer = api::resolve_layer(m, layer);
        const std::string spec = api::head_spec(m, head, true);
        check_capacity(capacity, size_t(m.seq) * size_t(m.seq), "one map");
        api::require(out, "out");
        const std::vector<float> map = select_map(m, model_layer, spec);
        std::copy(map.begin(), map.end(), out);
    });
}

hm_status hm_maps_merge_words(const hm_maps* maps, hm_maps** out) {
    return api::call([&] {
        api::require(maps, "maps");
        api::require(out, "out");
        *out = nullptr;
        if (!maps->maps.word_of_token.empty())
            throw Error("the maps are word-level already", Status::BadArgument);
        auto merged = std::make_unique<hm_maps>(*maps);
        merge_into_words(merged->maps, words::infer_family(merged->maps.tokens));
        *out = merged.release();
    });
}

void hm_maps_free(hm_maps* maps) {
    delete maps;
}

hm_status hm_head_stats_compute(const hm_maps* maps, int layer, int head, double threshold,
                                hm_head_stats* out) {
    return api::call([&] {
        api::require(maps, "maps");
        api::require(out, "out");
        const AttentionMaps& m = maps->maps;
        const int model_layer = api::resolve_layer(m, layer);
        const int h = std::stoi(api::head_spec(m, head, false));
        if (!(threshold <= 1.0)) throw Error("threshold above 1", Status::BadArgument);
        const analysis::HeadStats s = analysis::head_stats(m.map(model_layer, h), m.seq, m.causal,
                                                           threshold > 0 ? threshold : 0.01);
        *out = {s.entropy, s.normalized_entropy, s.sparsity, s.max,    s.first,  s.previous,
                s.self,    s.distance,           s.local,    s.medium, s.global, s.top5_mass};
    });
}

hm_rollout_params hm_rollout_default_params(void) {
    return {HM_FUSION_MEAN, 0.0};
}

hm_status hm_rollout(const hm_maps* maps, const hm_rollout_params* params, float* out,
                     size_t capacity) {
    return api::call([&] {
        api::require(maps, "maps");
        const hm_rollout_params p = params ? *params : hm_rollout_default_params();
        const AttentionMaps& m = maps->maps;
        for (size_t l = 0; l < m.layers.size(); ++l)
            if (m.layers[l] != int(l))
                throw Error(
                    "rollout needs the layers from 0 without gaps (capture layers \"all\" "
                    "or \"0-N\")",
                    Status::BadArgument);
        if (int(maps->heads.size()) != m.n_head || m.values.empty())
            throw Error("rollout needs collected maps", Status::BadArgument);
        if (p.fusion != HM_FUSION_MEAN && p.fusion != HM_FUSION_MAX && p.fusion != HM_FUSION_MIN)
            throw Error("rollout fusion " + std::to_string(p.fusion) +
                            " (expected HM_FUSION_MEAN, _MAX or _MIN)",
                        Status::BadArgument);
        if (!(p.discard_ratio >= 0.0 && p.discard_ratio < 1.0))
            throw Error("rollout discard_ratio " + std::to_string(p.discard_ratio) +
                            " (expected 0 <= r < 1)",
                        Status::BadArgument);
        check_capacity(capacity, size_t(m.seq) * size_t(m.seq), "rollout");
        api::require(out, "out");
        const auto fusion = p.fusion == HM_FUSION_MAX   ? analysis::HeadFusion::Max
                            : p.fusion == HM_FUSION_MIN ? analysis::HeadFusion::Min
                                                        : analysis::HeadFusion::Mean;
        const std::vector<float> r = analysis::rollout(m.values, int(m.layers.size()), m.n_head,
                                                       m.seq, fusion, p.discard_ratio);
        std::copy(r.begin(), r.end(), out);
    });
}

void hm_buffer_free(hm_buffer* buffer) {
    if (!buffer) return;
    std::free(buffer->data);
    buffer->data = nullptr;
    buffer->size = 0;
}

hm_status hm_export_memory(const hm_maps* maps, int format, hm_buffer* out) {
    return api::call([&] {
        api::require(maps, "maps");
        api::require(out, "out");
        *out = {nullptr, 0};
        const std::vector<std::byte> bytes =
            export_bytes(export_format_of(format), export_contents(maps), "export");
        fill_buffer(out, bytes.data(), bytes.size());
    });
}

hm_status hm_export_file(const hm_maps* maps, const char* path) {
    return api::call([&] {
        api::require(maps, "maps");
        api::require(path, "path");
        const std::vector<std::byte> bytes =
            export_bytes(export_format_for(path), export_contents(maps), path);
        write_atomically(path, bytes);
    });
}

hm_read_params hm_read_default_params(void) {
    hm_read_params p;
    std::memset(&p, 0, sizeof p);
    p.format = HM_FORMAT_AUTO;
    p.split = -1;
    return p;
}

hm_status hm_maps_read_memory(const void* data, size_t size, const hm_read_params* params,
                              hm_maps** out) {
    const hm_read_params p = params ? *params : hm_read_default_params();
    if (!data || !out) {
        return api::call([&] {
            api::require(data, "data");
            api::require(out, "out");
        });
    }
    *out = nullptr;
    return read_maps(std::span(static_cast<const std::byte*>(data), size), p, nullptr, out);
}

hm_status hm_maps_read_file(const char* path, const hm_read_params* params, hm_maps** out) {
    std::string bytes;
    const hm_status status = api::call([&] {
        api::require(path, "path");
        api::require(out, "out");
        *out = nullptr;
        std::string why;
        std::optional<std::string> file = read_regular_file(path, why);
        if (!file) throw Error(std::string(path) + ": cannot read: " + why, Status::Io);
        bytes = std::move(*file);
    });
    if (status != HM_OK) return status;
    const hm_read_params p = params ? *params : hm_read_default_params();
    return read_maps(std::as_bytes(std::span(bytes.data(), bytes.size())), p, path, out);
}

hm_status hm_render_heatmap(const hm_maps* maps, int layer, int head,
                            const hm_render_params* params, hm_write_fn write, void* user_data) {
    return api::call([&] {
        api::require(write, "write");
        const hm_render_params p = params ? *params : hm_render_default_params();
        const std::vector<std::byte> bytes = heatmap_bytes(maps, layer, head, p);
        if (!write(user_data, bytes.data(), bytes.size()))
            throw Error("the picture's write callback stopped the render", Status::Cancelled);
    });
}

hm_status hm_render_heatmap_memory(const hm_maps* maps, int layer, int head,
                                   const hm_render_params* params, hm_buffer* out) {
    return api::call([&] {
        api::require(out, "out");
        *out = {nullptr, 0};
        const hm_render_params p = params ? *params : hm_render_default_params();
        const std::vector<std::byte> bytes = heatmap_bytes(maps, layer, head, p);
        fill_buffer(out, bytes.data(), bytes.size());
    });
}

hm_status hm_render_heatmap_file(const hm_maps* maps, int layer, int head,
                                 const hm_render_params* params, const char* path) {
    return api::call([&] {
        api::require(path, "path");
        hm_render_params p = params ? *params : hm_render_default_params();
        p.format = picture_format(p, path);
        write_atomically(path, heatmap_bytes(maps, layer, head, p));
    });
}

hm_status hm_render_grid_memory(const hm_maps* maps, const hm_render_params* params,
                                hm_buffer* out) {
    return api::call([&] {
        api::require(out, "out");
        *out = {nullptr, 0};
        const hm_render_params p = params ? *params : hm_render_default_params();
        const std::vector<std::byte> bytes = grid_bytes(maps, p);
        fill_buffer(out, bytes.data(), bytes.size());
    });
}

hm_status hm_render_grid_file(const hm_maps* maps, const hm_render_params* params,
                              const char* path) {
    return api::call([&] {
        api::require(path, "path");
        hm_render_params p = params ? *params : hm_render_default_params();
        p.format = picture_format(p, path);
        write_atomically(path, grid_bytes(maps, p));
    });
}

}  // extern "C"
