// Export assembly: a run's maps (L', H', S, S) with its tokens, ids, layers and heads as the bytes
// of a .npy, .npz, .safetensors or .json file (the CLI's export and the C API's hm_export_*).
// Bytes only: the I/O room (engine/output_file.h) writes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/config.h"

namespace headmap {

enum class ExportFormat { Npy, Npz, Safetensors, Json };

// From the extension, in any case; headmap::Error (Unsupported) names the path otherwise.
ExportFormat export_format_for(const std::filesystem::path& path);

struct ExportContents {
    std::span<const float> maps;  // (layers.size(), heads.size(), seq, seq)
    int seq = 0;
    std::string model;                   // the model's name (.json only)
    std::optional<ModelConfig> config;   // known for captured maps, not for saved ones
    std::vector<int32_t> ids, type_ids;  // empty for saved maps
    std::vector<std::string> tokens;     // seq labels
    std::vector<int> layers, heads;      // the model layers and heads held
    std::vector<int32_t> word_ids;       // word-level maps: each token's word; else empty
};

// `where` names the output in errors.
std::vector<std::byte> export_bytes(ExportFormat format, const ExportContents& contents,
                                    const std::string& where);

}  // namespace headmap
