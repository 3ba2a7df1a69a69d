// Writing a Scene to disk: the format from the extension, then one atomic write, so a failed run
// never leaves a half-written or stale-looking image behind.
#include <algorithm>
#include <span>
#include <string>

#include "engine/output_file.h"
#include "headmap/error.hpp"
#include "viz/render.h"

namespace headmap::viz {

ImageFormat format_for(const std::filesystem::path& out) {
    const std::string ext = lower_extension(out);
    if (ext == ".png") return ImageFormat::Png;
    if (ext == ".svg") return ImageFormat::Svg;
    if (ext == ".pdf") return ImageFormat::Pdf;
    throw Error("--out " + out.string() +
                ": unsupported image format (expected .png, .svg or .pdf)");
}

void write_scene(const Scene& scene, const Font& font, const std::filesystem::path& out,
                 float png_scale) {
    const ImageFormat format = format_for(out);
    // Rendered before the file is opened: a rendering error then leaves nothing on disk.
    std::vector<uint8_t> png;
    std::string text;
    switch (format) {
        case ImageFormat::Png:
            png = encode_png(rasterize(scene, font, png_scale));
            break;
        case ImageFormat::Svg:
            text = render_svg(scene, font);
            break;
        case ImageFormat::Pdf:
            text = render_pdf(scene, font);
            break;
    }
    AtomicOutputFile file(out);
    if (format == ImageFormat::Png)
        file.write(std::as_bytes(std::span(png)));
    else
        file.write(std::as_bytes(std::span(text.data(), text.size())));
    file.commit();
}

}  // namespace headmap::viz
