// Internals of the TrueType check (viz/font_check.h), shared by its two halves: font_check.cpp
// (the table directory, metrics, cmap and kerning) and font_check_glyf.cpp (outlines).
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "viz/font_check.h"

namespace headmap::viz::font_check {

// What check_truetype reports: thrown by the checks, caught once at the top.
struct Problem {
    std::string why;
};

[[noreturn]] inline void fail(std::string why) {
    throw Problem{std::move(why)};
}

inline std::string num(uint64_t v) {
    return std::to_string(v);
}

inline std::string code_point(uint32_t cp) {
    char text[16];
    std::snprintf(text, sizeof text, "U+%04X", unsigned(cp));
    return text;
}

// One table's bytes; reads past its end fail naming the table, the offset and what was read.
class Table {
  public:
    Table(std::span<const uint8_t> file, FontTable t, const char* tag)
        : bytes_(file.subspan(t.offset, t.length)), tag_(tag) {}

    uint64_t size() const { return bytes_.size(); }
    bool has(uint64_t at, uint64_t n) const { return at <= size() && n <= size() - at; }
    [[noreturn]] void past_end(uint64_t at, uint64_t n, const std::string& what) const {
        fail("the '" + tag_ + "' table (" + num(size()) + " bytes) is too short for " + what +
             " (bytes " + num(at) + ".." + num(at + n) + ")");
    }
    void need(uint64_t at, uint64_t n, const char* what) const {
        if (!has(at, n)) past_end(at, n, what);
    }
    uint32_t u8(uint64_t at, const char* what) const {
        need(at, 1, what);
        return bytes_[at];
    }
    uint32_t u16(uint64_t at, const char* what) const {
        need(at, 2, what);
        return raw16(at);
    }
    int s16(uint64_t at, const char* what) const { return int16_t(u16(at, what)); }
    uint32_t u32(uint64_t at, const char* what) const {
        need(at, 4, what);
        return raw16(at) << 16 | raw16(at + 2);
    }
    // Unchecked: for loops that check with has() and name the failure themselves.
    uint32_t raw8(uint64_t at) const { return bytes_[at]; }
    uint32_t raw16(uint64_t at) const { return uint32_t(bytes_[at]) << 8 | bytes_[at + 1]; }

  private:
    std::span<const uint8_t> bytes_;
    std::string tag_;
};

// Every glyph's outline, as stb_truetype reads it from 'loca' and 'glyf' and expands
// composites (font_check_glyf.cpp).
void check_glyphs(std::span<const uint8_t> file, const Table& loca, FontTable glyf,
                  uint32_t num_glyphs, uint32_t loca_format, int units_per_em);

}  // namespace headmap::viz::font_check
