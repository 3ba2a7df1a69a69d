// The one exception type that crosses module boundaries. The CLI catches it once,
// prints its one-line message and exits with code 2.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace headmap {

// `message` as one short line. Messages quote user input and file contents (paths, option values,
// tokens), which may hold line breaks, other control bytes (a NUL would end what() early) or
// megabytes of one line: control bytes are shown escaped (\n, \r, \t, \xNN), and a message over
// ~1 KB keeps its first and last 480 bytes (the end says what was expected), cut at UTF-8
// boundaries. Applying it twice changes nothing more.
inline std::string one_line(std::string_view text) {
    constexpr size_t kKeep = 480;
    std::string shortened;
    if (text.size() > 2 * kKeep + 64) {
        size_t head = kKeep, tail = text.size() - kKeep;
        const auto continuation = [&](size_t at) { return (uint8_t(text[at]) & 0xC0) == 0x80; };
        while (head > 0 && continuation(head)) --head;
        while (tail < text.size() && continuation(tail)) ++tail;
        shortened = std::string(text.substr(0, head)) + " [... " + std::to_string(tail - head) +
                    " bytes left out ...] " + std::string(text.substr(tail));
        text = shortened;
    }
    std::string line;
    line.reserve(text.size());
    for (char c : text) {
        const auto byte = uint8_t(c);
        if (c == '\n') {
            line += "\\n";
        } else if (c == '\r') {
            line += "\\r";
        } else if (c == '\t') {
            line += "\\t";
        } else if (byte < 0x20 || byte == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            line += "\\x";
            line += kHex[byte >> 4];
            line += kHex[byte & 15];
        } else {
            line += c;
        }
    }
    return line;
}

struct Error : std::runtime_error {
    explicit Error(const std::string& message) : std::runtime_error(one_line(message)) {}
};

}  // namespace headmap
