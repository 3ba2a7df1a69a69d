// Font and image files for the viz room, which opens no files itself: this is where the CLI and
// the tests read TrueType fonts (the system's DejaVu, or --font) and write rendered scenes. It
// sits between the rooms (it may include engine's I/O and viz; neither includes it).
#pragma once

#include <filesystem>
#include <optional>

#include "viz/font.h"
#include "viz/scene.h"

namespace headmap::viz_io {

// `path` given: that TTF (headmap::Error naming it if it cannot be read or is not a TrueType
// font), with its bold sibling (X.ttf or X-Regular.ttf -> X-Bold.ttf) when that is a usable
// font. Otherwise the first usable system font (DejaVu Sans and its bold, then Liberation Sans,
// Arial), else the built-in bitmap font.
viz::Font load_font(const std::optional<std::filesystem::path>& path = std::nullopt);

// Renders in the format of `out`'s extension (viz::format_for) and writes the file atomically
// (temporary file, then rename): headmap::Error on an unknown extension or an unwritable path,
// and nothing is left behind.
void write_scene(const viz::Scene& scene, const viz::Font& font, const std::filesystem::path& out,
                 float png_scale = 1.0f);

}  // namespace headmap::viz_io
