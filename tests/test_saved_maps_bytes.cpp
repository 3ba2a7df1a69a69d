// Tests for saved maps read from bytes and exported as bytes (engine/capture/saved_maps.h,
// export.h), the path of --from and of hm_maps_read_memory / hm_export_memory, with hostile labels.
#include <doctest/doctest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/capture/export.h"
#include "engine/capture/saved_maps.h"
#include "engine/safetensors.h"
#include "headmap/error.hpp"

using namespace headmap;

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
