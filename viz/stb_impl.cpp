// The translation unit that compiles stb_truetype's implementation (Debian libstb-dev headers).

// stb_truetype's asserts check its input as much as its own invariants, and release builds
// (NDEBUG) compile them out. A debug or sanitizer build must not abort where a release build
// goes on: a font that viz/font_check.h lets through can still trip one (an outline point
// outside its glyph's box fails "z->ey >= scan_y_top", which stb itself notes can happen), and
// what stb does past them stays in bounds (fuzzed under ASan and UBSan: tests/fuzz/fuzz_font.cpp).
#define STBTT_assert(x) ((void)0)
#define STB_TRUETYPE_IMPLEMENTATION
#include <stb_truetype.h>

// stb_image_write's implementation is compiled per instruction set: viz/isa/png_isa.cpp.
