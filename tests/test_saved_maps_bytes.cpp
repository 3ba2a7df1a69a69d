// Tests for saved maps read from bytes and exported as bytes (engine/capture/saved_maps.h,
// export.h), the path of --from and of hm_maps_read_memory / hm_export_memory, with hostile labels.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/capture/export.h"
#include "engine/capture/saved_maps.h"
#include "engine/capture/saved_metadata.h"
#include "engine/safetensors.h"
#include "headmap/error.hpp"
#include "test_support.h"

using namespace headmap;
using test_support::kTestData;

namespace {

// (1, 1, 2, 2) maps of one head, read back from .npy bytes, labelled with `tokens`.
AttentionMaps maps_with(std::vector<std::string> tokens) {
    const std::vector<int64_t> shape = {1, 1, 2, 2};
    const std::vector<float> values = {1.0f, 0.0f, 0.25f, 0.75f};
    AttentionMaps maps = read_saved_maps(npy_bytes(shape, values), SavedMapsFormat::Npy, {}, "m");
    set_tokens(maps, std::move(tokens));
    return maps;
}

ExportContents contents_of(const AttentionMaps& maps) {
    ExportContents c;
    c.maps = maps.values;
    c.seq = maps.seq;
    c.tokens = maps.tokens;
    c.layers = maps.layers;
    c.heads = {0};
    return c;
}

}  // namespace

TEST_CASE("labels that are not UTF-8 export in every format, replaced by U+FFFD") {
    // Labels come from --tokens files and hm_read_params.tokens: any bytes. The .safetensors
    // metadata threw nlohmann's type_error 316 (not a headmap::Error) on the first invalid byte.
    const AttentionMaps maps = maps_with({"caf\xc3", "\xff\xfe"});
    const ExportContents contents = contents_of(maps);
    for (const ExportFormat format :
         {ExportFormat::Npy, ExportFormat::Npz, ExportFormat::Safetensors, ExportFormat::Json}) {
        CAPTURE(int(format));
        std::vector<std::byte> bytes;
        CHECK_NOTHROW(bytes = export_bytes(format, contents, "out"));
        CHECK(!bytes.empty());
    }
    const std::vector<std::byte> bytes = export_bytes(ExportFormat::Safetensors, contents, "out");
    // The tokens metadata is JSON with the invalid bytes replaced.
    uint64_t length = 0;
    std::memcpy(&length, bytes.data(), 8);
    const auto header =
        nlohmann::json::parse(std::string(reinterpret_cast<const char*>(bytes.data()) + 8, length));
    const auto tokens = nlohmann::json::parse(header["__metadata__"]["tokens"].get<std::string>());
    CHECK(tokens == nlohmann::json({"caf\xef\xbf\xbd", "\xef\xbf\xbd\xef\xbf\xbd"}));
    // And the maps read back.
    const AttentionMaps again = read_saved_maps(bytes, SavedMapsFormat::Safetensors, {}, "again");
    CHECK(again.values == maps.values);
}

TEST_CASE("an export's tokens and pair split read back from its .safetensors") {
    // --from x.safetensors used to label the rows 0..S-1 though the export stores its tokens.
    const std::vector<int64_t> shape = {1, 1, 4, 4};
    std::vector<float> values(16, 0.25f);
    ExportContents c;
    c.maps = values;
    c.seq = 4;
    c.tokens = {"[CLS]", "hi", "[SEP]", "yo"};
    c.type_ids = {0, 0, 0, 1};
    c.ids = {101, 7632, 102, 10930};
    c.layers = {0};
    c.heads = {0};
    const auto bytes = export_bytes(ExportFormat::Safetensors, c, "out");
    const AttentionMaps maps = read_saved_maps(bytes, SavedMapsFormat::Safetensors, {}, "x");
    CHECK(maps.tokens == c.tokens);
    CHECK(maps.split == 3);
    // Without a pair, no split; an .npy has no labels to read.
    c.type_ids = {0, 0, 0, 0};
    const auto single = export_bytes(ExportFormat::Safetensors, c, "out");
    CHECK(read_saved_maps(single, SavedMapsFormat::Safetensors, {}, "x").split == -1);
    CHECK(read_saved_maps(npy_bytes(shape, values), SavedMapsFormat::Npy, {}, "n").tokens ==
          std::vector<std::string>{"0", "1", "2", "3"});
    // Stored tokens of the wrong count are an error naming the file, not silently other labels.
    c.tokens = {"a", "b"};
    const auto wrong = export_bytes(ExportFormat::Safetensors, c, "out");
    try {
        read_saved_maps(wrong, SavedMapsFormat::Safetensors, {}, "saved.safetensors");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(
            std::string(e.what()) ==
            "saved.safetensors: its tokens are 2 labels for maps of 4 x 4 (expected one per row)");
    }
}

TEST_CASE("flat JSON lists: anything but a flat list of the one kind is refused") {
    CHECK(json_string_list(R"(["a", "\u00e9", ""])") ==
          std::vector<std::string>{"a", "\xc3\xa9", ""});
    CHECK(json_int_list("[0, 1, -3, 9223372036854775807]") ==
          std::vector<int64_t>{0, 1, -3, INT64_MAX});
    CHECK(json_string_list("[]") == std::vector<std::string>{});
    for (const char* bad : {"", "[", "[\"a\"", "\"a\"", "{}", "[[\"a\"]]", "[\"a\", 1]", "[null]",
                            "[\"a\"] x", "[1.5]", "[true]", "{\"a\": \"b\"}"}) {
        CAPTURE(bad);
        CHECK(!json_string_list(bad));
    }
    for (const char* bad : {"[1.5]", "[\"1\"]", "[18446744073709551615]", "[[1]]", "[1,]"}) {
        CAPTURE(bad);
        CHECK(!json_int_list(bad));
    }
    // A hostile depth is refused at the second bracket, without recursion.
    const std::string deep(1 << 20, '[');
    CHECK(!json_string_list(deep));
    CHECK(!json_int_list(deep + std::string(1 << 20, ']')));
}

namespace {

std::vector<std::byte> file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    const auto bytes = std::as_bytes(std::span(text.data(), text.size()));
    return {bytes.begin(), bytes.end()};
}

std::string npz_error(const std::vector<std::byte>& bytes) {
    try {
        read_saved_maps(bytes, SavedMapsFormat::Npz, {}, "m.npz");
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE(".npz: headmap's and numpy's archives read back with their tokens and split") {
    std::vector<float> values(2 * 16, 0.25f);
    ExportContents c;
    c.maps = values;
    c.seq = 4;
    c.tokens = {"[CLS]", "caf\xc3\xa9", "[SEP]", "\xf0\x9f\x99\x82"};
    c.type_ids = {0, 0, 0, 1};
    c.layers = {0, 1};
    c.heads = {0};
    const auto bytes = export_bytes(ExportFormat::Npz, c, "out");
    const AttentionMaps maps = read_saved_maps(bytes, SavedMapsFormat::Npz, {}, "x.npz");
    CHECK(maps.values == values);
    CHECK(maps.n_layer == 2);
    CHECK(maps.tokens == c.tokens);
    CHECK(maps.split == 3);
    CHECK(saved_maps_format_for("A.NPZ") == SavedMapsFormat::Npz);

    // numpy.savez's own layout (zip64 extra fields in every local header).
    const auto numpy = file_bytes(kTestData / "saved" / "numpy_savez.npz");
    const AttentionMaps np = read_saved_maps(numpy, SavedMapsFormat::Npz, {}, "np.npz");
    CHECK(np.n_layer == 2);
    CHECK(np.n_head == 3);
    CHECK(np.seq == 4);
    CHECK(np.tokens == std::vector<std::string>{"a", "b\xc3\xa9", "c", "d"});
    CHECK(np.split == 2);
    // Picking another array by name; a compressed archive is refused with the reason.
    SavedMapsOptions pick;
    pick.tensor = "missing";
    CHECK_THROWS_AS(read_saved_maps(numpy, SavedMapsFormat::Npz, pick, "np.npz"), Error);
    const std::string compressed =
        npz_error(file_bytes(kTestData / "saved" / "numpy_savez_compressed.npz"));
    CHECK(compressed.find("is compressed (numpy.savez_compressed)") != std::string::npos);
}

TEST_CASE(".npz: broken and hostile archives are one-line errors") {
    std::vector<float> values(16, 0.25f);
    ExportContents c;
    c.maps = values;
    c.seq = 4;
    c.tokens = {"a", "b", "c", "d"};
    c.layers = {0};
    c.heads = {0};
    const auto good = export_bytes(ExportFormat::Npz, c, "out");
    REQUIRE(npz_error(good) == "no error");
    auto put32 = [](std::vector<std::byte>& b, size_t at, uint32_t v) {
        for (int i = 0; i < 4; ++i) b[at + size_t(i)] = std::byte((v >> (8 * i)) & 0xff);
    };
    const size_t end = good.size() - 22;  // headmap writes no archive comment
    struct Case {
        const char* what;
        std::vector<std::byte> bytes;
        const char* expected;
    };
    std::vector<Case> cases;
    cases.push_back({"empty", {}, "no zip end-of-directory record"});
    cases.push_back({"cut short", {good.begin(), good.end() - 30}, "no zip end-of-directory"});
    auto flipped = good;
    flipped[200] ^= std::byte{1};  // inside attentions.npy's data
    cases.push_back({"a flipped data byte", flipped, "CRC-32 mismatch"});
    auto far_directory = good;
    put32(far_directory, end + 16, 0x7fffffff);
    cases.push_back({"directory offset", far_directory, "the zip directory lies outside"});
    auto long_member = good;
    const uint32_t directory = uint32_t(good[end + 16]) | uint32_t(good[end + 17]) << 8 |
                               uint32_t(good[end + 18]) << 16 | uint32_t(good[end + 19]) << 24;
    put32(long_member, directory + 20, 0x7fffff00);
    put32(long_member, directory + 24, 0x7fffff00);
    cases.push_back({"a member past the end", long_member, "run past the members"});
    auto many = good;
    many[end + 10] = std::byte{0xff}, many[end + 11] = std::byte{0xff};
    cases.push_back({"65535 entries", many, "members, more than the 256"});
    auto local = good;
    put32(local, directory + 42, 12345);
    cases.push_back({"a bad local offset", local, "no local header at offset 12345"});
    for (const Case& k : cases) {
        CAPTURE(k.what);
        const std::string message = npz_error(k.bytes);
        CHECK(message.rfind("m.npz", 0) == 0);
        CHECK(message.find(k.expected) != std::string::npos);
        CHECK(message.find('\n') == std::string::npos);
    }
}
