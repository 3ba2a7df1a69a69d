// Fuzz target: saved maps read back from bytes (engine/capture/saved_maps.cpp's read_saved_maps,
// which the CLI's --from and hm_maps_read_memory call), as .npy, .safetensors or .npz (with the
// tokens and token types an export stores). The first byte picks the format (bit 0: .safetensors,
// else .npy; bit 3: .npz) and a layer selection (bits 1-2); the rest is the file. Maps that read
// get hostile labels (slices of the input: invalid UTF-8, control bytes, "##", "Ġ"), are merged
// into words, and are exported in every format (.npy, .npz, .safetensors, .json); the .npy and
// .npz and .safetensors exports must read back to the same values.
#include <cstdint>
#include <cstring>
#include <string>

#include "engine/analysis/words.h"
#include "engine/capture/capture.h"
#include "engine/capture/export.h"
#include "engine/capture/saved_maps.h"
#include "fuzz_support.h"

namespace {

// The values `bytes` read back to, in `format`; aborts when they differ from `expected`.
void check_reads_back(const std::vector<std::byte>& bytes, headmap::SavedMapsFormat format,
                      const std::vector<float>& expected) {
    const headmap::AttentionMaps again = headmap::read_saved_maps(bytes, format, {}, "export");
    if (again.values.size() != expected.size() ||
        std::memcmp(again.values.data(), expected.data(), expected.size() * sizeof(float)) != 0)
        fuzz::broken("an export does not read back to the same maps");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    static const char* const kLayers[] = {"all", "0", "-1", "0,-1"};
    const auto format = data[0] & 8   ? headmap::SavedMapsFormat::Npz
                        : data[0] & 1 ? headmap::SavedMapsFormat::Safetensors
                                      : headmap::SavedMapsFormat::Npy;
    headmap::SavedMapsOptions options;
    options.layers = kLayers[(data[0] >> 1) & 3];
    headmap::AttentionMaps maps;
    try {
        maps =
            headmap::read_saved_maps(fuzz::bytes_of(data + 1, size - 1), format, options, "fuzz");
    } catch (const headmap::Error&) {
        return 0;
    }
    if (maps.values.size() !=
        maps.layers.size() * size_t(maps.n_head) * size_t(maps.seq) * size_t(maps.seq))
        fuzz::broken("values do not match the shape");
    if (maps.seq > 4096) return 0;  // exports of huge maps cost time, not coverage
    try {
        // Labels as a --tokens file or hm_read_params.tokens may give them: markers the word
        // grouping looks for, bytes that are not UTF-8, and slices of the input itself.
        static constexpr std::string_view kLabels[] = {
            "", "\xff", "##", "\xc4\xa0", "[CLS]", "<s>", "a\nb", "\xe2\x82", "##\xc3", "</s>"};
        std::vector<std::string> tokens;
        const std::string_view text = fuzz::text_of(data, size);
        for (int i = 0; i < maps.seq; ++i) {
            tokens.emplace_back(kLabels[size_t(i) % std::size(kLabels)]);
            tokens.back() += text.substr((size_t(i) * 7) % size, size_t(i) % 5);
        }
        headmap::set_tokens(maps, tokens);
        headmap::ExportContents contents;
        contents.maps = maps.values;
        contents.seq = maps.seq;
        contents.tokens = maps.tokens;
        contents.layers = maps.layers;
        for (int h = 0; h < maps.n_head; ++h) contents.heads.push_back(h);
        for (const auto export_format :
             {headmap::ExportFormat::Npy, headmap::ExportFormat::Npz,
              headmap::ExportFormat::Safetensors, headmap::ExportFormat::Json}) {
            const std::vector<std::byte> bytes =
                headmap::export_bytes(export_format, contents, "out");
            if (export_format == headmap::ExportFormat::Npy)
                check_reads_back(bytes, headmap::SavedMapsFormat::Npy, maps.values);
            if (export_format == headmap::ExportFormat::Safetensors)
                check_reads_back(bytes, headmap::SavedMapsFormat::Safetensors, maps.values);
            if (export_format == headmap::ExportFormat::Npz)
                check_reads_back(bytes, headmap::SavedMapsFormat::Npz, maps.values);
        }
        headmap::merge_into_words(maps, headmap::words::infer_family(maps.tokens));
    } catch (const headmap::Error&) {
    }
    return 0;
}
