// Message helpers shared by the safetensors reader's files (safetensors.cpp, the mapping and the
// weight store; safetensors_header.cpp, the header and index parsers). Not part of the I/O room's
// interface.
#pragma once

#include <string>
#include <string_view>

#include "headmap/error.hpp"

namespace headmap::safetensors_detail {

// Messages quote parser output and file contents: line breaks become spaces (and headmap::Error
// escapes any other control byte).
[[noreturn]] inline void fail(std::string message) {
    for (char& c : message) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    throw Error(message);
}

// "'name'" for messages. Built by appending: GCC 12 at -O3 warns falsely (-Wrestrict) about
// "'" + std::string.
inline std::string in_quotes(std::string_view name) {
    std::string text;
    text.reserve(name.size() + 2);
    text.push_back('\'');
    text.append(name);
    text.push_back('\'');
    return text;
}

}  // namespace headmap::safetensors_detail
