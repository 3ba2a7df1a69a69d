// The drawing half of the C API (include/headmap/headmap.h): plain matrices and map stacks in,
// picture bytes out through the caller's write callback. The capture half (engine/api) draws
// captured maps by calling these entry points, so neither room includes the other.
#include <cstring>
#include <string>
#include <vector>

#include "headmap/error.hpp"
#include "headmap/headmap.h"
#include "viz/render.h"
#include "viz/views.h"

namespace headmap::viz {
namespace {

std::vector<std::string> labels_or_numbers(const char* const* labels, int count) {
    std::vector<std::string> out;
    out.reserve(size_t(count));
    for (int i = 0; i < count; ++i)
        out.push_back(labels && labels[i] ? std::string(labels[i]) : std::to_string(i));
    return out;
}

hm_render_params params_or_default(const hm_render_params* params) {
    return params ? *params : hm_render_default_params();
}

void check_common(const hm_render_params& p) {
    if (!(p.gamma > 0.0f && p.gamma <= 100.0f))
        throw Error(
            "render gamma " + std::to_string(p.gamma) + " is out of range (expected 0..100]",
            Status::BadArgument);
    if (!(p.scale > 0.0f && p.scale <= 16.0f))
        throw Error("render scale " + std::to_string(p.scale) + " is out of range (expected 0..16]",
                    Status::BadArgument);
    if (p.format != HM_FORMAT_AUTO && p.format != HM_FORMAT_PNG && p.format != HM_FORMAT_SVG &&
        p.format != HM_FORMAT_PDF)
        throw Error("render format " + std::to_string(p.format) +
                        " is not a picture (expected HM_FORMAT_PNG, _SVG or _PDF)",
                    Status::BadArgument);
    if (p.font_data != nullptr && (p.font_size == 0 || p.font_size > (size_t(256) << 20)))
        throw Error("render font_size " + std::to_string(p.font_size) +
                        " (expected 1..256 MiB of TrueType bytes)",
                    Status::BadArgument);
}

// The caller's TrueType bytes, else the builtin font (no file is read here).
Font font_of(const hm_render_params& p) {
    if (p.font_data == nullptr) return Font::builtin();
    return Font::from_files(
        {std::string(static_cast<const char*>(p.font_data), p.font_size), "font_data"});
}

// Renders first, then hands the bytes over: a rendering error writes nothing.
void emit(const Scene& scene, const Font& font, const hm_render_params& p, hm_write_fn write,
          void* user_data) {
    std::string text;
    std::vector<uint8_t> png;
    const void* data = nullptr;
    size_t size = 0;
    if (p.format == HM_FORMAT_SVG) {
        text = render_svg(scene, font);
        data = text.data(), size = text.size();
    } else if (p.format == HM_FORMAT_PDF) {
        text = render_pdf(scene, font);
        data = text.data(), size = text.size();
    } else {
        png = encode_png(rasterize(scene, font, p.scale));
        data = png.data(), size = png.size();
    }
    if (!write(user_data, data, size))
        throw Error("the picture's write callback stopped the render", Status::Cancelled);
}

}  // namespace
}  // namespace headmap::viz

using namespace headmap;

extern "C" {

hm_render_params hm_render_default_params(void) {
    hm_render_params p;
    std::memset(&p, 0, sizeof p);
    p.format = HM_FORMAT_PNG;
    p.colormap = "viridis";
    p.gamma = 1.5f;
    p.scale = 1.0f;
    p.top = 0;
    p.title = nullptr;
    p.colorbar = true;
    return p;
}

hm_status hm_render_matrix(const hm_matrix* matrix, const hm_render_params* params,
                           hm_write_fn write, void* user_data) {
    return api::call([&] {
        api::require(matrix, "matrix");
        api::require(write, "write");
        api::require(matrix->values, "matrix->values");
        const hm_render_params p = viz::params_or_default(params);
        viz::check_common(p);
        if (matrix->rows < 1 || matrix->cols < 1 || matrix->rows > 8192 || matrix->cols > 8192)
            throw Error("matrix of " + std::to_string(matrix->rows) + " x " +
                            std::to_string(matrix->cols) + " (expected 1..8192 per side)",
                        Status::OutOfRange);
        if (p.top < 0) throw Error("render top is negative", Status::BadArgument);
        const viz::MapView view{
            std::span<const float>(matrix->values, size_t(matrix->rows) * size_t(matrix->cols)),
            matrix->rows, matrix->cols};
        viz::HeatmapOptions o;
        o.colormap = p.colormap ? p.colormap : "viridis";
        o.gamma = p.gamma;
        o.title = p.title ? p.title : "";
        o.top = p.top;
        o.colorbar = p.colorbar;
        o.causal_mask = matrix->causal_mask;
        if (matrix->split >= 1) {
            if (matrix->rows != matrix->cols || matrix->split >= matrix->rows)
                throw Error("matrix split " + std::to_string(matrix->split) +
                                " needs a square matrix of more rows",
                            Status::OutOfRange);
            o.question_split = matrix->split;
        }
        const auto rows = viz::labels_or_numbers(matrix->row_labels, matrix->rows);
        const auto cols = viz::labels_or_numbers(matrix->col_labels, matrix->cols);
        const viz::Font font = viz::font_of(p);
        viz::emit(viz::heatmap(font, view, rows, cols, o), font, p, write, user_data);
    });
}

hm_status hm_render_stack(const hm_map_stack* stack, const hm_render_params* params,
                          hm_write_fn write, void* user_data) {
    return api::call([&] {
        api::require(stack, "stack");
        api::require(write, "write");
        api::require(stack->values, "stack->values");
        const hm_render_params p = viz::params_or_default(params);
        viz::check_common(p);
        if (stack->n_layers < 1 || stack->n_heads < 1 || stack->seq < 1 || stack->seq > 4096 ||
            int64_t(stack->n_layers) * stack->n_heads > 4096)
            throw Error("map stack of " + std::to_string(stack->n_layers) + " x " +
                            std::to_string(stack->n_heads) + " maps of " +
                            std::to_string(stack->seq) +
                            " tokens (expected 1..4096 maps of 1..4096 tokens)",
                        Status::OutOfRange);
        std::vector<int> layers(size_t(stack->n_layers)), heads(size_t(stack->n_heads));
        for (int i = 0; i < stack->n_layers; ++i)
            layers[size_t(i)] = stack->layer_ids ? stack->layer_ids[i] : i;
        for (int i = 0; i < stack->n_heads; ++i)
            heads[size_t(i)] = stack->head_ids ? stack->head_ids[i] : i;
        viz::GridOptions o;
        o.colormap = p.colormap ? p.colormap : "viridis";
        o.gamma = p.gamma;
        o.title = p.title ? p.title : "";
        o.causal_mask = stack->causal_mask;
        const size_t count = size_t(stack->n_layers) * size_t(stack->n_heads) * size_t(stack->seq) *
                             size_t(stack->seq);
        const viz::Font font = viz::font_of(p);
        viz::emit(viz::grid(font, std::span<const float>(stack->values, count), layers, heads,
                            stack->seq, o),
                  font, p, write, user_data);
    });
}

hm_views_input hm_views_default_input(void) {
    hm_views_input input;
    std::memset(&input, 0, sizeof input);
    const viz::RegionOptions regions;
    input.circle_scale = 1.0f;
    input.n_seeds = regions.n_seeds;
    input.min_distance = regions.min_distance;
    input.expansion_threshold = regions.expansion_threshold;
    input.proximity_threshold = regions.proximity_threshold;
    input.merge_threshold = regions.merge_threshold;
    return input;
}

hm_status hm_render_views(const hm_views_input* input, const hm_render_params* params,
                          hm_write_fn write, void* user_data) {
    return api::call([&] {
        api::require(input, "input");
        api::require(write, "write");
        api::require(input->maps, "input->maps");
        const hm_render_params p = viz::params_or_default(params);
        viz::check_common(p);
        const hm_views_input& in = *input;
        if (in.view < HM_VIEW_COMPARE || in.view > HM_VIEW_REGIONS)
            throw Error("views view " + std::to_string(in.view) +
                            " (expected HM_VIEW_COMPARE, _DIFFERENCE, _STABILITY, _EVOLUTION or "
                            "_REGIONS)",
                        Status::BadArgument);
        const bool pair = in.view == HM_VIEW_COMPARE || in.view == HM_VIEW_DIFFERENCE;
        const bool series = in.view == HM_VIEW_STABILITY || in.view == HM_VIEW_EVOLUTION;
        if ((pair && in.n_maps != 2) || (series && (in.n_maps < 2 || in.n_maps > 4096)) ||
            (in.view == HM_VIEW_REGIONS && in.n_maps != 1))
            throw Error("views n_maps " + std::to_string(in.n_maps) + " (expected " +
                            (pair     ? "2"
                             : series ? "2..4096"
                                      : "1") +
                            " for this view)",
                        Status::BadArgument);
        if (in.rows < 1 || in.cols < 1 || in.rows > 8192 || in.cols > 8192)
            throw Error("views maps of " + std::to_string(in.rows) + " x " +
                            std::to_string(in.cols) + " (expected 1..8192 per side)",
                        Status::OutOfRange);
        std::vector<viz::MapView> maps;
        const size_t count = size_t(in.rows) * size_t(in.cols);
        for (int i = 0; i < in.n_maps; ++i) {
            if (!in.maps[i])
                throw Error("views maps[" + std::to_string(i) + "] is NULL", Status::BadArgument);
            maps.push_back({std::span<const float>(in.maps[i], count), in.rows, in.cols});
        }
        const auto rows = viz::labels_or_numbers(in.row_labels, in.rows);
        const auto cols = viz::labels_or_numbers(in.col_labels, in.cols);
        const std::string colormap = p.colormap ? p.colormap : "viridis";
        const std::string title = p.title ? p.title : "";
        const viz::Font font = viz::font_of(p);
        viz::Scene scene;
        if (pair) {
            if (!(in.circle_scale > 0.0f && in.circle_scale <= 100.0f))
                throw Error(
                    "views circle_scale " + std::to_string(in.circle_scale) + " (expected 0..100]",
                    Status::BadArgument);
            viz::CompareOptions o;
            o.colormap = colormap, o.gamma = p.gamma, o.title = title;
            o.scale = in.circle_scale;
            o.signed_colors = in.signed_colors;
            o.causal_mask = in.causal_mask;
            if (in.first_name) o.first_name = in.first_name;
            if (in.second_name) o.second_name = in.second_name;
            scene = in.view == HM_VIEW_COMPARE
                        ? viz::compare(font, maps[0], maps[1], rows, cols, o)
                        : viz::difference(font, maps[0], maps[1], rows, cols, o);
        } else if (in.view == HM_VIEW_STABILITY) {
            viz::StabilityOptions o;
            o.colormap = colormap, o.gamma = p.gamma, o.title = title;
            o.use_std = in.use_std;
            o.from_white = in.from_white;
            o.causal_mask = in.causal_mask;
            scene = viz::stability(font, maps, rows, cols, o);
        } else if (in.view == HM_VIEW_EVOLUTION) {
            viz::EvolutionOptions o;
            o.colormap = colormap, o.gamma = p.gamma, o.title = title;
            o.per_cell = in.per_cell;
            o.causal_mask = in.causal_mask;
            scene = viz::evolution(font, maps, rows, cols, o);
        } else {
            if (in.n_seeds < 1 || in.n_seeds > 1000 || in.min_distance < 0 ||
                in.proximity_threshold < 0 || !(in.expansion_threshold >= 0.0f) ||
                !(in.merge_threshold >= 0.0f))
                throw Error(
                    "views region settings out of range (n_seeds 1..1000, distances and "
                    "thresholds >= 0)",
                    Status::BadArgument);
            viz::RegionOptions r;
            r.n_seeds = in.n_seeds, r.min_distance = in.min_distance;
            r.expansion_threshold = in.expansion_threshold;
            r.proximity_threshold = in.proximity_threshold;
            r.merge_threshold = in.merge_threshold;
            r.skip_sinks = !in.keep_sinks;
            viz::HeatmapOptions o;
            o.colormap = colormap, o.gamma = p.gamma, o.title = title, o.colorbar = p.colorbar;
            o.causal_mask = in.causal_mask;
            scene = viz::regions(font, maps[0], viz::find_regions(maps[0], r), rows, cols, o);
        }
        viz::emit(scene, font, p, write, user_data);
    });
}

}  // extern "C"
