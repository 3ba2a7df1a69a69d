// Back ends: the same Scene as an anti-aliased raster (PNG), SVG or PDF, as bytes; writing them
// to a file is the caller's (tools/viz_io.h writes atomically).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "viz/font.h"
#include "viz/scene.h"

namespace headmap::viz {

struct Image {
    int width = 0, height = 0;
    std::vector<uint8_t> rgba;  // width * height * 4, rows top to bottom, straight alpha
};

// Anti-aliased rasterisation at `scale` pixels per scene unit (the image is
// ceil(width * scale) x ceil(height * scale)). Deterministic: the same scene and font give the
// same bytes on every run and thread count.
Image rasterize(const Scene& scene, const Font& font, float scale = 1.0f);
std::vector<uint8_t> encode_png(const Image& image);

// Text stays text: SVG <text> elements; PDF text objects in an embedded TrueType font
// (Type0/CIDFontType2, Identity-H, with a ToUnicode map so text can be searched and copied),
// or the standard Helvetica when the font is the builtin bitmap one.
std::string render_svg(const Scene& scene, const Font& font);
std::string render_pdf(const Scene& scene, const Font& font);

enum class ImageFormat { Png, Svg, Pdf };
// From the extension (.png, .svg, .pdf, case-insensitive); headmap::Error otherwise.
ImageFormat format_for(const std::filesystem::path& out);

// The file's bytes in `format`; `png_scale` is rasterize's scale (PNG only).
std::string render_scene(const Scene& scene, const Font& font, ImageFormat format,
                         float png_scale = 1.0f);

}  // namespace headmap::viz
