// stb_image_write's PNG encoder, compiled once per instruction set (viz/CMakeLists.txt) with
// HEADMAP_ISA naming the namespace (isa_scalar, isa_avx2), and picked at run time by
// viz/raster.cpp's encode_png. Why: the per-row filter and deflate loops vectorise; a portable
// build without this encoded the bench-render heatmap 26% slower than a -march=native one.
// STB_IMAGE_WRITE_STATIC gives every stb function internal linkage, so no copy can stand in for
// another at link time (tools/check_isa_objects.sh checks the objects).
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cstdint>

namespace headmap::viz::HEADMAP_ISA {

#define STB_IMAGE_WRITE_STATIC
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

// RGBA rows to PNG bytes through `write`; false when stb fails (out of memory).
bool write_png(void (*write)(void* context, void* data, int size), void* context, int width,
               int height, const uint8_t* rgba) {
    // stb's settings are this copy's globals, set once (thread-safe static initialisation).
    // Level 1 and the "sub" filter on every row keep encoding fast (trying all five filters
    // per row costs about 2.5x for little gain on heatmaps, whose rows repeat colours).
    static const bool configured = [] {
        stbi_write_png_compression_level = 1;
        stbi_write_force_png_filter = 1;
        return true;
    }();
    (void)configured;
    return stbi_write_png_to_func(write, context, width, height, 4, rgba, width * 4) != 0;
}

}  // namespace headmap::viz::HEADMAP_ISA
