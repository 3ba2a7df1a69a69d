// Tests for the streamed safetensors header and index parsers (engine/safetensors_header.cpp):
// the limits on what a header may list, and the checks a JSON tree used to give for free
// (repeated names, nesting, skipped members).
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "engine/safetensors.h"
#include "headmap/error.hpp"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace headmap;
using test_support::TempDir;

namespace {

// A file's bytes from a header text and `data_size` bytes of data.
std::vector<std::byte> file_bytes(const std::string& header, size_t data_size) {
    std::vector<std::byte> bytes(8 + header.size() + data_size, std::byte{0});
    const uint64_t length = header.size();
    std::memcpy(bytes.data(), &length, 8);
    std::memcpy(bytes.data() + 8, header.data(), header.size());
    return bytes;
}

std::string entries(size_t count, const std::string& prefix = "t") {
    // Built by appending: GCC 12 warns falsely (-Wrestrict) about "\"" + std::string.
    std::string text;
    for (size_t i = 0; i < count; ++i) {
        if (i > 0) text += ',';
        text += '"';
        text += prefix;
        text += std::to_string(i);
        text += R"(":{"dtype":"F32","shape":[0],"data_offsets":[0,0]})";
    }
    return text;
}

// "{body}", built by appending for the same reason.
std::string object(const std::string& body) {
    std::string text = "{";
    text += body;
    text += '}';
    return text;
}

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        const std::string message = e.what();
        CHECK(message.find('\n') == std::string::npos);
        return message;
    }
    FAIL("expected headmap::Error, nothing was thrown");
    return {};
}

std::string parse_error(const std::string& header, size_t data = 0,
                        const SafetensorsLimits& limits = {}) {
    const std::vector<std::byte> bytes = file_bytes(header, data);
    return error_of([&] { parse_safetensors_bytes(bytes, "f.safetensors", limits); });
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("the tensor count and header size limits, with the reason in the message") {
    const SafetensorsLimits limits{4096, 3, "a model that binds 1"};
    const std::vector<std::byte> three = file_bytes(object(entries(3)), 0);
    CHECK(parse_safetensors_bytes(three, "f", limits).size() == 3);
    // __metadata__ is not a tensor.
    const std::vector<std::byte> with_metadata =
        file_bytes(R"({"__metadata__":{"format":"pt"},)" + entries(3) + "}", 0);
    CHECK(parse_safetensors_bytes(with_metadata, "f", limits).size() == 3);

    std::string message = parse_error(object(entries(4)), 0, limits);
    CHECK(contains(message, "f.safetensors: the header lists more than 3 tensors"));
    CHECK(contains(message, "(a model that binds 1)"));
    // The count stops the parse: what follows the excess entry is never read.
    std::string unfinished = "{";
    unfinished += entries(4);
    unfinished += ",\"x\":" + std::string(5000, '!');
    message = parse_error(unfinished, 0, SafetensorsLimits{1 << 20, 3, ""});
    CHECK(contains(message, "more than 3 tensors"));

    message = parse_error(object(entries(100)), 0, limits);
    CHECK(contains(message, "exceeds the limit of 4096 bytes (a model that binds 1)"));

    // Defaults: the format's 100 MB and kMaxArchiveTensors.
    CHECK(SafetensorsLimits{}.max_header_bytes == kMaxHeaderBytes);
    std::string many = "{";
    many += entries(kMaxArchiveTensors + 1);
    many += '}';
    message = parse_error(many);
    CHECK(contains(message, "more than " + std::to_string(kMaxArchiveTensors) + " tensors"));
}

TEST_CASE("model_archive_limits: twice the weights plus 64, 512 bytes each plus 1 MiB") {
    const SafetensorsLimits limits = model_archive_limits(148, "gpt2");
    CHECK(limits.max_tensors == 360);
    CHECK(limits.max_header_bytes == 360 * 512 + (1 << 20));
    CHECK(limits.context == "gpt2");
    const SafetensorsLimits huge = model_archive_limits(size_t(1) << 40, "");
    CHECK(huge.max_tensors == kMaxArchiveTensors);
    CHECK(huge.max_header_bytes <= kMaxHeaderBytes);
}

TEST_CASE("what a JSON tree used to settle: repeated names, members, nesting, trailing bytes") {
    const std::string w = R"("w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
    CHECK(contains(parse_error("{" + w + "," + w + "}", 4), "tensor 'w' appears twice"));
    // Unknown members of an entry are skipped, however nested (within the nesting limit).
    const std::vector<std::byte> extra =
        file_bytes(R"({"w":{"note":{"a":[1,{"b":null}],"c":"d"},"dtype":"F32","shape":[1],)"
                   R"("data_offsets":[0,4],"more":[true,false,1.5,-2]}})",
                   4);
    const std::vector<TensorView> views = parse_safetensors_bytes(extra, "f");
    REQUIRE(views.size() == 1);
    CHECK(views[0].shape == std::vector<int64_t>{1});
    CHECK(views[0].bytes.size() == 4);
    CHECK(contains(parse_error(R"({"w":{"x":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}})"),
                   "nested deeper"));
    CHECK(contains(parse_error("{" + w + "} x", 4), "not valid JSON"));
    CHECK(contains(parse_error("{" + w + "}{}", 4), "not valid JSON"));
    CHECK(contains(parse_error(R"({"__metadata__":{"a":{"b":"c"}}})"), "not a map of strings"));
    CHECK(contains(parse_error(R"({"__metadata__":"x"})"), "not a map of strings"));
    CHECK(contains(parse_error(R"({"__metadata__":{"a":["b"]}})"), "not a map of strings"));
    CHECK(contains(parse_error(R"(null)"), "expected a JSON object, found null"));
    CHECK(contains(parse_error(R"(7)"), "expected a JSON object, found number"));
    CHECK(contains(parse_error(R"({"w":[1]})"), "tensor 'w': expected an object"));
    CHECK(contains(parse_error(R"({"w":{"dtype":["F32"],"shape":[1],"data_offsets":[0,4]}})", 4),
                   "non-string 'dtype'"));
    CHECK(contains(parse_error(R"({"w":{"dtype":"F32","shape":{},"data_offsets":[0,4]}})", 4),
                   "'shape'"));
    CHECK(contains(parse_error(R"({"w":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}})", 4),
                   "non-negative integers"));
    CHECK(contains(parse_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}})", 4),
                   "[begin, end] pair"));
    CHECK(contains(parse_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":{}}})", 4),
                   "[begin, end] pair"));
    // A shape of more dimensions than numpy allows is refused at the 65th.
    std::string rank = R"({"w":{"dtype":"U8","shape":[)";
    for (int i = 0; i < 65; ++i) rank += i ? ",1" : "1";
    CHECK(contains(parse_error(rank + R"(],"data_offsets":[0,1]}})", 1), "more than 64"));
    // Empty, and views sorted by name.
    CHECK(parse_safetensors_bytes(file_bytes("{}", 0), "f").empty());
    const std::vector<TensorView> sorted = parse_safetensors_bytes(
        file_bytes(object(entries(3, "z") + "," + entries(2, "a")), 0), "f");
    REQUIRE(sorted.size() == 5);
    CHECK(sorted.front().name == "a0");
    CHECK(sorted.back().name == "z2");
}

TEST_CASE("the sharded index: weight_map pairs, other members skipped, the limits") {
    const auto pairs = parse_safetensors_index(
        R"({"metadata":{"total_size":8,"nested":[{"a":[1,2]}]},"weight_map":{"b":"s1","a":"s2"},)"
        R"("other":"x"})",
        "index.json");
    REQUIRE(pairs.size() == 2);
    CHECK(pairs[0] == std::pair<std::string, std::string>{"b", "s1"});
    CHECK(pairs[1] == std::pair<std::string, std::string>{"a", "s2"});
    const auto index_error = [](const std::string& text, const SafetensorsLimits& limits = {}) {
        return error_of([&] { parse_safetensors_index(text, "index.json", limits); });
    };
    CHECK(contains(index_error(R"({"metadata":{}})"), "missing 'weight_map' object"));
    CHECK(contains(index_error(R"({"weight_map":"x"})"), "missing 'weight_map' object"));
    CHECK(contains(index_error(R"({"weight_map":{"a":["s"]}})"), "entry 'a' names shard [...]"));
    CHECK(contains(index_error(R"({"weight_map":{"a":null}})"), "entry 'a' names shard null"));
    CHECK(contains(index_error(R"([])"), "expected a JSON object"));
    CHECK(contains(index_error(R"({"weight_map":{}} x)"), "not valid JSON"));
    const SafetensorsLimits two{1 << 20, 2, "why"};
    CHECK(parse_safetensors_index(R"({"weight_map":{"a":"s","b":"s"}})", "i", two).size() == 2);
    CHECK(contains(index_error(R"({"weight_map":{"a":"s","b":"s","c":"s"}})", two),
                   "weight_map lists more than 2 tensors (why)"));
    CHECK(contains(index_error(std::string(100, ' ') + "{}", SafetensorsLimits{64, 2, ""}),
                   "over the limit of 64"));
}

TEST_CASE("open(): the limits hold over all shards together; a NUL in a shard name is refused") {
    TempDir dir;
    const auto write = [](const fs::path& path, const std::vector<std::byte>& bytes) {
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    };
    write(dir / "s1.safetensors", file_bytes(object(entries(3, "a")), 0));
    write(dir / "s2.safetensors", file_bytes(object(entries(3, "b")), 0));
    std::string map;
    for (int i = 0; i < 3; ++i)
        map += "\"a" + std::to_string(i) + "\":\"s1.safetensors\",\"b" + std::to_string(i) +
               "\":\"s2.safetensors\",";
    map.pop_back();
    const fs::path index = dir / "model.safetensors.index.json";
    test_support::write_file(index, "{\"weight_map\":{" + map + "}}");
    CHECK(SafetensorsArchive::open(index).tensors().size() == 6);
    CHECK(SafetensorsArchive::open(index, {1 << 20, 6, ""}).tensors().size() == 6);
    std::string message = error_of([&] { SafetensorsArchive::open(index, {1 << 20, 5, "m"}); });
    CHECK(contains(message, "more than 5 tensors"));
    CHECK(contains(message, "(m)"));

    test_support::write_file(index,
                             std::string(R"({"weight_map":{"a0":"s1.safetensors\u0000x"}})"));
    message = error_of([&] { SafetensorsArchive::open(index); });
    CHECK(contains(message, "expected a file name relative to the index"));
}
