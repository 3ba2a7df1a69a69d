// A heatmap PNG (mean of the heads) and an .npz of the last layer of one sentence.
// usage: last_layer [TEXT] [OUT_DIR]   (the default model; files heat.png and last_layer.npz)
#include <cstdio>
#include <headmap/headmap.hpp>
#include <string>

int main(int argc, char** argv) {
    const std::string text = argc > 1 ? argv[1] : "A new sentence to visualize attention weights";
    const std::string dir = argc > 2 ? argv[2] : ".";
    try {
        const auto model = headmap::Model::load();
        const auto maps = model.capture(text, {.layers = "-1"});
        headmap::render_heatmap(maps.mean_heads(-1), dir + "/heat.png");
        maps.save(dir + "/last_layer.npz");
        const hm_maps_info info = maps.info();
        std::printf("layer %d: %d heads x %d x %d -> %s/heat.png, %s/last_layer.npz\n",
                    hm_maps_layer(maps.get(), 0), info.n_heads, info.seq, info.seq, dir.c_str(),
                    dir.c_str());
    } catch (const headmap::ApiError& e) {
        std::fprintf(stderr, "last_layer: %s (%s)\n", e.what(), hm_status_string(e.status()));
        return 1;
    }
}
