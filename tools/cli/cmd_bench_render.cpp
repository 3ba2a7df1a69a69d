// headmap bench-render: the renderer's own benchmark. Synthetic softmax maps (random logits, fixed
// seed) so it needs no model; times scene building, rasterisation and PNG encoding (in memory),
// median of --runs. One JSON line per case:
//   heatmap: one S x S map (default S=512) with labels and colour bar;
//   grid:    layers x heads thumbnails (default 12 x 12 at S=128).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "tools/cli/commands.h"
#include "tools/cli/view_common.h"
#include "viz/render.h"

namespace headmap::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<float> softmax_maps(int count, int S, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> logit(0.0f, 2.0f);
    std::vector<float> maps(size_t(count) * S * S);
    for (size_t row = 0; row < size_t(count) * S; ++row) {
        float* r = &maps[row * S];
        float sum = 0;
        for (int j = 0; j < S; ++j) sum += r[j] = std::exp(logit(rng));
        for (int j = 0; j < S; ++j) r[j] /= sum;
    }
    return maps;
}

struct Timing {
    double scene_ms, raster_ms, png_ms, total_ms;
    size_t png_bytes, items;
    int width, height;
};

template <typename Build>
Timing time_render(const viz::Font& font, int runs, Build&& build) {
    std::vector<double> scene, raster, png, total;
    Timing t{};
    for (int run = -1; run < runs; ++run) {
        const auto t0 = Clock::now();
        const viz::Scene s = build();
        const auto t1 = Clock::now();
        const viz::Image image = viz::rasterize(s, font);
        const auto t2 = Clock::now();
        const std::vector<uint8_t> bytes = viz::encode_png(image);
        const auto t3 = Clock::now();
        if (run < 0) continue;
        const auto ms = [](auto a, auto b) {
            return std::chrono::duration<double, std::milli>(b - a).count();
        };
        scene.push_back(ms(t0, t1));
        raster.push_back(ms(t1, t2));
        png.push_back(ms(t2, t3));
        total.push_back(ms(t0, t3));
        t.png_bytes = bytes.size(), t.items = s.items.size();
        t.width = image.width, t.height = image.height;
    }
    const auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    t.scene_ms = median(scene), t.raster_ms = median(raster), t.png_ms = median(png);
    t.total_ms = median(total);
    return t;
}

void print(const char* view, const std::string& shape, const Timing& t, const viz::Font& font) {
    std::printf(
        "{\"impl\": \"headmap-render\", \"view\": \"%s\", %s, \"font\": \"%s\", \"ms\": %.2f, "
        "\"scene_ms\": %.2f, \"raster_ms\": %.2f, \"png_ms\": %.2f, \"items\": %zu, \"width\": %d, "
        "\"height\": %d, \"png_bytes\": %zu}\n",
        view, shape.c_str(), font.name().c_str(), t.total_ms, t.scene_ms, t.raster_ms, t.png_ms,
        t.items, t.width, t.height, t.png_bytes);
    std::fflush(stdout);
}

}  // namespace

int cmd_bench_render(const Args& args) {
    const int S = args.get_int("seq", 512, 1, 4096);
    const int GS = args.get_int("grid-seq", 128, 1, 1024);
    const int L = args.get_int("layers", 12, 1, 64), H = args.get_int("heads", 12, 1, 64);
    const int runs = args.get_int("runs", 5, 1, 1000);
    const viz::Font font = load_font(args);

    const std::vector<float> one = softmax_maps(1, S, 1);
    std::vector<std::string> tokens;
    for (int i = 0; i < S; ++i) tokens.push_back("Ġtok" + std::to_string(i));
    viz::HeatmapOptions options;
    options.clip_percentile = clip_option(args);
    viz::GridOptions grid_options;
    grid_options.clip_percentile = options.clip_percentile;
    options.title = "bench";
    options.top = 10;
    const Timing heat = time_render(font, runs, [&] {
        return viz::heatmap(font, viz::MapView{one, S, S}, tokens, tokens, options);
    });
    print("heatmap", "\"seq\": " + std::to_string(S), heat, font);

    const std::vector<float> all = softmax_maps(L * H, GS, 2);
    std::vector<int> layers, heads;
    for (int l = 0; l < L; ++l) layers.push_back(l);
    for (int h = 0; h < H; ++h) heads.push_back(h);
    const Timing grid = time_render(
        font, runs, [&] { return viz::grid(font, all, layers, heads, GS, grid_options); });
    print("grid", "\"seq\": " + std::to_string(GS) + ", \"maps\": " + std::to_string(L * H), grid,
          font);
    return 0;
}

}  // namespace headmap::cli
