// The JSON mutator of json_mutator.h, compiled once for every target (nlohmann's parser and
// serialiser cost ~15 s of instrumented compile per file that instantiates them).
#include "json_mutator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string_view>
#include <vector>

#include "fuzz_support.h"

namespace fuzz {

namespace {

using Json = nlohmann::json;

// Members of containers larger than this are table rows (a vocabulary, merges, a weight map);
// smaller ones are settings, which the mutation favours: in a tokenizer.json of 500 vocabulary
// entries, a uniform pick would hit "use_regex" once in a thousand.
constexpr size_t kTableSize = 32;

struct Nodes {
    std::vector<Json*> all, settings;  // settings: the root and members of small containers
};

// Every node of `root`, without recursion (a mutated document may nest thousands deep).
Nodes collect(Json& root) {
    Nodes nodes;
    std::vector<std::pair<Json*, bool>> pending = {{&root, true}};
    while (!pending.empty()) {
        const auto [node, setting] = pending.back();
        pending.pop_back();
        nodes.all.push_back(node);
        if (setting) nodes.settings.push_back(node);
        if (node->is_structured())
            for (Json& child : *node) pending.emplace_back(&child, node->size() <= kTableSize);
    }
    return nodes;
}

// Deepest bracket nesting outside strings: nlohmann's dump recurses, so deeper input is left to
// the byte mutation.
int nesting(std::string_view text) {
    int depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') in_string = true;
        if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
        if (c == ']' || c == '}') --depth;
    }
    return deepest;
}

Json boundary_value(std::mt19937& rng) {
    static const Json kValues[] = {
        0,
        -1,
        1,
        2,
        255,
        256,
        65535,
        65536,
        16777216,
        16777217,
        2147483647,
        2147483648LL,
        -2147483648LL,
        4294967295LL,
        4294967296LL,
        9007199254740993LL,
        std::numeric_limits<int64_t>::max(),
        std::numeric_limits<int64_t>::min(),
        uint64_t(1) << 63,
        std::numeric_limits<uint64_t>::max(),
        0.5,
        -0.0,
        1e-5,
        1e-12,
        1e-40,
        1e-45,
        1e-50,
        1e-320,
        0.99999999999,
        1.0000001,
        1e38,
        3.5e38,
        1e308,
        -1e308,
        2.0,
        "",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "1e400",
        "0x10",
        "-1",
        "2147483648",
        std::string(1, '\0'),
        std::string(300, 'a'),
        "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
        nullptr,
        true,
        false,
        Json::array(),
        Json::object(),
        Json::array({1}),
        Json::array({0, 0}),
        Json::object({{"type", "x"}}),
    };
    return kValues[rng() % std::size(kValues)];
}

// One change to `node`, picked at random; `keys` are the document's member names, to rename to.
void mutate_node(Json& node, const std::vector<std::string>& keys, std::mt19937& rng) {
    switch (rng() % 9) {
        case 0:
        case 1:
            node = boundary_value(rng);
            return;
        case 2:  // deep nesting
            for (unsigned depth = 1 + rng() % 300; depth > 0; --depth)
                node = (rng() % 2) ? Json::array({std::move(node)})
                                   : Json::object({{"a", std::move(node)}});
            return;
        case 3:  // numbers nudged: off by one, negated, scaled
            if (node.is_number_integer()) {
                // In unsigned arithmetic: -INT64_MIN and INT64_MAX + 1 wrap instead of overflowing.
                const uint64_t v = node.get<uint64_t>();
                node = int64_t(rng() % 4 == 0 ? 0 - v : v + rng() % 3 - 1);
            } else if (node.is_number()) {
                node = node.get<double>() * std::ldexp(1.0, int(rng() % 200) - 100);
            } else {
                node = boundary_value(rng);
            }
            return;
        case 4:  // a member or element removed
            if (node.is_object() && !node.empty()) {
                auto it = node.begin();
                std::advance(it, long(rng() % node.size()));
                node.erase(it.key());
            } else if (node.is_array() && !node.empty()) {
                node.erase(node.begin() + long(rng() % node.size()));
            } else {
                node = nullptr;
            }
            return;
        case 5:  // a member renamed to another name of the document, or added under one
            if (node.is_object() && !keys.empty()) {
                const std::string& key = keys[rng() % keys.size()];
                if (!node.empty() && rng() % 2) {
                    auto it = node.begin();
                    std::advance(it, long(rng() % node.size()));
                    Json value = *it;
                    node.erase(it.key());
                    node[key] = std::move(value);
                } else {
                    node[key] = boundary_value(rng);
                }
            } else if (node.is_array()) {
                node.push_back(node.empty() ? boundary_value(rng) : node[rng() % node.size()]);
            } else {
                node = boundary_value(rng);
            }
            return;
        case 6:  // an element repeated many times
            if (node.is_array() && !node.empty()) {
                const Json copy = node[rng() % node.size()];
                for (unsigned n = 1 + rng() % 64; n > 0; --n) node.push_back(copy);
            } else {
                node = Json::array({node, node});
            }
            return;
        case 7:  // a string's bytes mutated by libFuzzer (invalid UTF-8 is replaced on output)
            if (node.is_string()) {
                std::string text = node.get<std::string>();
                const size_t size = text.size();
                text.resize(size + 16);
                text.resize(
                    LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(text.data()), size, text.size()));
                node = text;
            } else {
                node = std::to_string(rng());
            }
            return;
        default:  // the value wrapped in the wrong type
            node = rng() % 2 ? Json(node.dump(-1, ' ', false, Json::error_handler_t::replace))
                             : Json::array({node});
            return;
    }
}

}  // namespace

std::string mutate_json(std::string input, size_t max_size, unsigned seed) {
    std::mt19937 rng(seed);
    const auto bytewise = [&] {
        const size_t size = input.size();
        input.resize(std::max(max_size, size));
        input.resize(
            LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(input.data()), size, input.size()));
        return input;
    };
    if (rng() % 3 == 0 || nesting(input) > 400) return bytewise();
    Json doc = Json::parse(input, nullptr, false);
    if (doc.is_discarded()) return bytewise();
    // Names to rename members to: those of the settings (not a vocabulary's tokens).
    std::vector<std::string> keys;
    for (const Json* node : collect(doc).settings)
        if (node->is_object() && node->size() <= kTableSize)
            for (auto it = node->begin(); it != node->end(); ++it) keys.push_back(it.key());
    for (unsigned changes = 1 + rng() % 3; changes > 0; --changes) {
        const Nodes nodes = collect(doc);
        const std::vector<Json*>& pool = rng() % 4 != 0 ? nodes.settings : nodes.all;
        mutate_node(*pool[rng() % pool.size()], keys, rng);
    }
    std::string out =
        doc.dump(rng() % 2 ? -1 : 1, ' ', false, nlohmann::json::error_handler_t::replace);
    // Numbers a JSON tree cannot hold (it keeps doubles and 64-bit integers), written over one
    // number of the text: overflowing literals throw out_of_range, not parse_error, in nlohmann.
    static const char* const kRawNumbers[] = {
        "1e400", "-1e400", "1e-400", "-0", "123456789012345678901234567890", "1E+2", "0.0e0"};
    if (rng() % 8 == 0) {
        std::vector<size_t> starts;
        for (size_t i = 0; i < out.size(); ++i)
            if (out[i] >= '0' && out[i] <= '9' &&
                (i == 0 || out[i - 1] == ':' || out[i - 1] == ' ' || out[i - 1] == '[' ||
                 out[i - 1] == ','))
                starts.push_back(i);
        if (!starts.empty()) {
            const size_t at = starts[rng() % starts.size()];
            size_t end = at;
            while (end < out.size() && std::strchr("0123456789.eE+-", out[end]) != nullptr) ++end;
            out.replace(at, end - at, kRawNumbers[rng() % std::size(kRawNumbers)]);
        }
    }
    if (out.size() > max_size) return bytewise();
    return out;
}

size_t mutate_json_input(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
    const std::string out = mutate_json(std::string(text_of(data, size)), max_size, seed);
    std::memcpy(data, out.data(), out.size());
    return out.size();
}

size_t mutate_json_part(uint8_t* data, size_t size, size_t max_size, size_t parts, size_t index,
                        unsigned seed) {
    std::vector<std::string> pieces;
    for (std::string_view part : split_parts(text_of(data, size), parts)) pieces.emplace_back(part);
    size_t others = 0;
    for (size_t i = 0; i < pieces.size(); ++i)
        if (i != index) others += pieces[i].size() + kSeparator.size();
    if (others >= max_size) return LLVMFuzzerMutate(data, size, max_size);
    pieces[index] = mutate_json(std::move(pieces[index]), max_size - others, seed);
    std::string joined;
    for (size_t i = 0; i < pieces.size(); ++i) {
        if (i > 0) joined += kSeparator;
        joined += pieces[i];
    }
    if (joined.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
    std::memcpy(data, joined.data(), joined.size());
    return joined.size();
}

}  // namespace fuzz
