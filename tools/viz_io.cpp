#include "tools/viz_io.h"

#include <cstddef>
#include <span>
#include <string>

#include "engine/output_file.h"
#include "engine/read_file.h"
#include "headmap/error.hpp"
#include "viz/render.h"

namespace headmap::viz_io {
namespace {

// Fonts are a few MB; a bigger "font" is a mistake, not something to read into memory.
constexpr size_t kMaxFontBytes = size_t(256) << 20;

// The file's bytes named by its path, or why it cannot be read.
std::optional<viz::Font::File> read_font_file(const std::filesystem::path& path, std::string& why) {
    std::optional<std::string> bytes = read_regular_file(path, why, kMaxFontBytes);
    if (!bytes) return std::nullopt;
    return viz::Font::File{std::move(*bytes), path.string()};
}

// The bold face beside a regular one when it is readable; from_files drops it if it is broken.
std::optional<viz::Font::File> read_bold(const std::filesystem::path& path) {
    std::string ignored;
    return read_font_file(path, ignored);
}

// Sibling bold file for a given regular one: X.ttf -> X-Bold.ttf, X-Regular.ttf -> X-Bold.ttf.
std::filesystem::path bold_sibling(const std::filesystem::path& regular) {
    std::string stem = regular.stem().string();
    if (stem.ends_with("-Regular")) stem.resize(stem.size() - 8);
    return regular.parent_path() / (stem + "-Bold" + regular.extension().string());
}

struct Candidate {
    const char* regular;
    const char* bold;
};
// DejaVu first (Debian, Fedora, Arch layouts), then Liberation, then macOS and Windows Arial.
constexpr Candidate kSystemFonts[] = {
    {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"},
    {"/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"},
    {"/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
     "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf"},
    {"/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"},
    {"/usr/local/share/fonts/DejaVuSans.ttf", "/usr/local/share/fonts/DejaVuSans-Bold.ttf"},
    {"/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"},
    {"/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
     "/usr/share/fonts/liberation-sans/LiberationSans-Bold.ttf"},
    {"/System/Library/Fonts/Supplemental/Arial.ttf",
     "/System/Library/Fonts/Supplemental/Arial Bold.ttf"},
    {"/Library/Fonts/Arial.ttf", "/Library/Fonts/Arial Bold.ttf"},
    {"C:/Windows/Fonts/arial.ttf", "C:/Windows/Fonts/arialbd.ttf"},
};

}  // namespace

viz::Font load_font(const std::optional<std::filesystem::path>& path) {
    if (path) {
        const std::string what = "font " + path->string() + ": ";
        const std::string expected = " (expected a TrueType .ttf font file)";
        std::error_code ec;
        if (std::filesystem::is_directory(*path, ec))
            throw Error(what + "is a directory" + expected);
        std::string why;
        std::optional<viz::Font::File> regular = read_font_file(*path, why);
        if (!regular) throw Error(what + "cannot read it: " + why + expected);
        return viz::Font::from_files(std::move(*regular), read_bold(bold_sibling(*path)));
    }
    for (const Candidate& c : kSystemFonts) {
        std::string why;
        std::optional<viz::Font::File> regular = read_font_file(c.regular, why);
        if (!regular) continue;
        try {
            return viz::Font::from_files(std::move(*regular), read_bold(c.bold));
        } catch (const Error&) {
            // a broken system font: try the next one
        }
    }
    return viz::Font::builtin();
}

void write_scene(const viz::Scene& scene, const viz::Font& font, const std::filesystem::path& out,
                 float png_scale) {
    const viz::ImageFormat format = viz::format_for(out);
    // Rendered before the file is opened: a rendering error then leaves nothing on disk.
    const std::string bytes = viz::render_scene(scene, font, format, png_scale);
    AtomicOutputFile file(out);
    file.write(std::as_bytes(std::span(bytes.data(), bytes.size())));
    file.commit();
}

}  // namespace headmap::viz_io
