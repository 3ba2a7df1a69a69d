// A Scene as the bytes of an image file, its format chosen from the output's extension. viz opens
// no files: the caller writes the bytes (tools/viz_io.h, atomically).
#include <string>

#include "headmap/error.hpp"
#include "viz/render.h"

namespace headmap::viz {

ImageFormat format_for(const std::filesystem::path& out) {
    // Lower-cased by hand (ASCII only, whatever the locale): ".PNG" is a PNG too.
    std::string ext = out.extension().string();
    for (char& c : ext)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    if (ext == ".png") return ImageFormat::Png;
    if (ext == ".svg") return ImageFormat::Svg;
    if (ext == ".pdf") return ImageFormat::Pdf;
    throw Error(out.string() + ": unsupported image format (expected .png, .svg or .pdf)",
                Status::Unsupported);
}

std::string render_scene(const Scene& scene, const Font& font, ImageFormat format,
                         float png_scale) {
    switch (format) {
        case ImageFormat::Png: {
            const std::vector<uint8_t> png = encode_png(rasterize(scene, font, png_scale));
            return std::string(png.begin(), png.end());
        }
        case ImageFormat::Svg:
            return render_svg(scene, font);
        case ImageFormat::Pdf:
            return render_pdf(scene, font);
    }
    throw Error("render_scene: unknown image format");  // unreachable: every format is handled
}

}  // namespace headmap::viz
