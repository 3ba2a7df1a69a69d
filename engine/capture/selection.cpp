#include "engine/capture/selection.h"

#include <algorithm>
#include <charconv>

#include "headmap/error.hpp"

namespace headmap {

std::optional<long long> parse_integer(std::string_view text) {
    long long value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
    return value;
}

std::vector<std::string> comma_items(const std::string& text) {
    std::vector<std::string> items;
    size_t start = 0;
    for (;;) {
        const size_t comma = text.find(',', start);
        items.push_back(
            text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) return items;
        start = comma + 1;
    }
}

std::vector<int> parse_selection(const std::string& what, const std::string& text, int count) {
    const std::string range_text =
        "0.." + std::to_string(count - 1) + ", or -" + std::to_string(count) + "..-1 from the end";
    std::vector<int> picked;
    if (text == "all") {
        for (int i = 0; i < count; ++i) picked.push_back(i);
        return picked;
    }
    const auto index = [&](const std::string& item) {
        auto parsed = parse_integer(item);
        if (!parsed)
            throw Error(what + " '" + item + "' is not an integer (expected " + range_text + ")",
                        Status::BadArgument);
        long long i = *parsed < 0 ? *parsed + count : *parsed;
        if (i < 0 || i >= count)
            throw Error(what + " " + item + " out of range (the model has " +
                            std::to_string(count) + " " + what + "s: " + range_text + ")",
                        Status::OutOfRange);
        return int(i);
    };
    for (const std::string& item : comma_items(text)) {
        // "a-b" is a range unless the dash is a leading minus sign.
        const size_t dash = item.find('-', 1);
        if (dash != std::string::npos && item[dash - 1] != '-') {
            int first = index(item.substr(0, dash)), last = index(item.substr(dash + 1));
            if (first > last)
                throw Error(what + " range '" + item + "' is empty (expected first <= last)",
                            Status::BadArgument);
            for (int i = first; i <= last; ++i) picked.push_back(i);
        } else {
            picked.push_back(index(item));
        }
    }
    std::sort(picked.begin(), picked.end());
    picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
    return picked;
}

}  // namespace headmap
