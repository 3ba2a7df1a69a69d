#include "engine/capture/saved_metadata.h"

#include <nlohmann/json.hpp>

#include "headmap/error.hpp"

namespace headmap {
namespace {

// SAX events of one flat list: every element must be of the kind asked for; anything else stops
// the parse.
template <class T>
struct FlatList {
    std::vector<T> items;
    int depth = 0;

    bool null() { return false; }
    bool boolean(bool) { return false; }
    bool number_integer(int64_t v) { return take(v); }
    bool number_unsigned(uint64_t v) {
        if (v > uint64_t(INT64_MAX)) return false;
        return take(int64_t(v));
    }
    bool number_float(double, const std::string&) { return false; }
    bool string(std::string& s) { return take(std::move(s)); }
    bool binary(std::vector<uint8_t>&) { return false; }
    bool start_object(std::size_t) { return false; }
    bool key(std::string&) { return false; }
    bool end_object() { return false; }
    bool start_array(std::size_t) { return ++depth == 1; }
    bool end_array() { return --depth == 0; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
        return false;
    }

    template <class V>
    bool take(V&& v) {
        if constexpr (std::is_same_v<std::decay_t<V>, T>) {
            if (depth != 1) return false;
            items.push_back(std::forward<V>(v));
            return true;
        } else {
            return false;
        }
    }
};

template <class T>
std::optional<std::vector<T>> flat_list(std::string_view text) {
    FlatList<T> list;
    if (!nlohmann::json::sax_parse(text, &list) || list.depth != 0) return std::nullopt;
    return std::move(list.items);
}

}  // namespace

std::optional<std::vector<std::string>> json_string_list(std::string_view text) {
    return flat_list<std::string>(text);
}

std::optional<std::vector<int64_t>> json_int_list(std::string_view text) {
    return flat_list<int64_t>(text);
}

void apply_export_labels(AttentionMaps& maps, std::optional<std::vector<std::string>> tokens,
                         const std::optional<std::vector<int64_t>>& type_ids,
                         const std::string& where) {
    if (tokens) {
        if (tokens->size() != size_t(maps.seq))
            throw Error(where + ": its tokens are " + std::to_string(tokens->size()) +
                            " labels for maps of " + std::to_string(maps.seq) + " x " +
                            std::to_string(maps.seq) + " (expected one per row)",
                        Status::BadArgument);
        maps.tokens = std::move(*tokens);
    }
    if (type_ids && type_ids->size() == size_t(maps.seq)) {
        size_t zeros = 0;
        while (zeros < type_ids->size() && (*type_ids)[zeros] == 0) ++zeros;
        bool pair = zeros > 0 && zeros < type_ids->size();
        for (size_t i = zeros; i < type_ids->size() && pair; ++i) pair = (*type_ids)[i] == 1;
        if (pair) maps.split = int(zeros);
    }
}

}  // namespace headmap
