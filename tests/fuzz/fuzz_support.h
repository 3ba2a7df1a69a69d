// Helpers for the fuzz targets of tests/fuzz (header-only: each target is one .cpp plus the rooms'
// libraries). A target passes the input to one parser and catches headmap::Error, the one error a
// parser may throw; any other exception, a crash or a sanitizer report is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "headmap/error.hpp"

namespace fuzz {

inline std::span<const std::byte> bytes_of(const uint8_t* data, size_t size) {
    return {reinterpret_cast<const std::byte*>(data), size};
}

inline std::string_view text_of(const uint8_t* data, size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Targets that take several files read them from one input, cut at this line (the dictionaries
// hold it, so mutations can add and remove cuts). Missing parts are empty.
inline constexpr std::string_view kSeparator = "\n----8<----\n";

inline std::vector<std::string_view> split_parts(std::string_view input, size_t parts) {
    std::vector<std::string_view> out;
    while (out.size() + 1 < parts) {
        const size_t cut = input.find(kSeparator);
        if (cut == std::string_view::npos) break;
        out.push_back(input.substr(0, cut));
        input.remove_prefix(cut + kSeparator.size());
    }
    out.push_back(input);
    out.resize(parts);
    return out;
}

// A property every input must keep (a round trip, an id in range) was broken: a finding, reported
// like a crash so libFuzzer saves the input.
[[noreturn]] inline void broken(const char* what) {
    std::fprintf(stderr, "fuzz property broken: %s\n", what);
    std::abort();
}

}  // namespace fuzz
