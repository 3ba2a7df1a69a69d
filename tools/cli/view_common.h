// What the view commands share: the drawing options every view takes, and writing the scene.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "tools/cli/args.h"
#include "tools/cli/map_source.h"
#include "viz/font.h"
#include "viz/scene.h"
#include "viz/views.h"

namespace headmap::cli {

// Checks --out's extension before any work, so a bad path fails fast.
void check_image_output(const Args& args);
viz::Font load_font(const Args& args);
void write_view(const Args& args, const viz::Scene& scene, const viz::Font& font);
// The same to another path than --out (a command whose image is optional, e.g. heads --scatter).
void write_view(const Args& args, const viz::Scene& scene, const viz::Font& font,
                const std::filesystem::path& out);

// For commands whose picture is optional (regions and modularity without --out, rollout and flow
// writing .npy, heads without --scatter): options (or flags) that only shape the picture (kPicture
// in the option table) would be ignored in silence, so the first one given is headmap::Error
// saying the picture needs `needs`.
void reject_draw_options(const Args& args, const std::string& needs);

std::string colormap_option(const Args& args);
float gamma_option(const Args& args);
// --clip P: the percentile long maps' colour scales top out at (HeatmapOptions::clip_percentile).
float clip_option(const Args& args);

// "r0,c0,r1,c1" cell rectangles (inclusive), each within seq x seq.
std::vector<viz::CellRegion> parse_regions(const std::vector<std::string>& texts, int seq);

// "L3H7": a head's short name in tables, point labels and file names.
std::string head_label(int layer, int head);
// Axis titles of a map view: "words" under --words, else "tokens"; --x-label/--y-label win
// where the command takes them.
void set_axis_labels(const Args& args, const Maps& maps, std::string& x_label,
                     std::string& y_label);

// "Layer 3, mean of 12 heads" and the like.
std::string map_title(const Maps& maps, int layer, const std::string& head_spec);

}  // namespace headmap::cli
