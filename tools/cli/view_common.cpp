#include "tools/cli/view_common.h"

#include "headmap/error.hpp"
#include "tools/viz_io.h"
#include "viz/render.h"

namespace headmap::cli {

void check_image_output(const Args& args) {
    const std::string out = args.required("out");
    try {
        viz::format_for(out);
    } catch (const Error& e) {
        throw Error(std::string("--out ") + e.what(), e.status());  // the CLI's name for it
    }
}

viz::Font load_font(const Args& args) {
    if (auto font = args.get("font")) return viz_io::load_font(std::filesystem::path(*font));
    return viz_io::load_font();
}

void write_view(const Args& args, const viz::Scene& scene, const viz::Font& font) {
    write_view(args, scene, font, args.required("out"));
}

void write_view(const Args& args, const viz::Scene& scene, const viz::Font& font,
                const std::filesystem::path& out) {
    const float scale = args.get_float("scale", 0.1f, 16.0f).value_or(1.0f);
    viz_io::write_scene(scene, font, out, scale);
}

void reject_draw_options(const Args& args, const std::string& needs) {
    // Which options shape the picture is the table's word: an argument list built in code has no
    // command there to ask.
    if (!args.command()) throw Error("reject_draw_options needs the arguments of a command");
    for (const std::string& name : picture_options(*args.command()))
        if (args.flag(name) || !args.get_all(name).empty())
            throw Error("--" + name + " shapes the picture, which needs " + needs +
                        " (without it nothing is drawn)");
}

std::string colormap_option(const Args& args) {
    const std::string name = args.get("colormap").value_or("viridis");
    viz::colormap(name);  // throws for an unknown name, listing the known ones
    return name;
}

float gamma_option(const Args& args) {
    return args.get_float("gamma", 0.05f, 20.0f).value_or(1.5f);
}

float clip_option(const Args& args) {
    return args.get_float("clip", 50.0f, 100.0f).value_or(viz::kLongMapClipPercentile);
}

std::vector<viz::CellRegion> parse_regions(const std::vector<std::string>& texts, int seq) {
    std::vector<viz::CellRegion> regions;
    for (const std::string& text : texts) {
        const std::vector<int> v = parse_int_list("region", text, 0, seq - 1);
        if (v.size() != 4 || v[0] > v[2] || v[1] > v[3])
            throw Error("--region '" + text +
                        "': expected r0,c0,r1,c1 with r0 <= r1 and c0 <= c1 (inclusive cells)");
        regions.push_back({v[0], v[1], v[2], v[3]});
    }
    return regions;
}

std::string head_label(int layer, int head) {
    std::string name = "L";  // built piecewise: GCC 12 warns falsely on "L" + string
    name += std::to_string(layer);
    name += 'H';
    name += std::to_string(head);
    return name;
}

void set_axis_labels(const Args& args, const Maps& maps, std::string& x_label,
                     std::string& y_label) {
    const bool words = !maps.word_of_token.empty();  // --words
    x_label = words ? "Attended words (keys)" : "Attended tokens (keys)";
    y_label = words ? "Attending words (queries)" : "Attending tokens (queries)";
    if (auto x = args.get("x-label")) x_label = *x;
    if (auto y = args.get("y-label")) y_label = *y;
}

std::string map_title(const Maps& maps, int layer, const std::string& head_spec) {
    const std::string heads =
        maps.n_head == 1 ? "its one head" : std::to_string(maps.n_head) + " heads";
    std::string head = head_spec == "mean"  ? "mean of " + heads
                       : head_spec == "max" ? "max of " + heads
                                            : "head " + head_spec;
    return maps.name + ": layer " + std::to_string(layer) + ", " + head;
}

}  // namespace headmap::cli
