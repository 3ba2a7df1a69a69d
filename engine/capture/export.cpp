#include "engine/capture/export.h"

#include <map>
#include <nlohmann/json.hpp>

#include "engine/capture/saved_maps.h"
#include "engine/output_file.h"
#include "engine/safetensors.h"
#include "headmap/error.hpp"

namespace headmap {

ExportFormat export_format_for(const std::filesystem::path& path) {
    const std::string ext = lower_extension(path);
    if (ext == ".npy") return ExportFormat::Npy;
    if (ext == ".npz") return ExportFormat::Npz;
    if (ext == ".safetensors") return ExportFormat::Safetensors;
    if (ext == ".json") return ExportFormat::Json;
    throw Error(
        path.string() + ": unsupported export format (expected .npy, .npz, .safetensors or .json)",
        Status::Unsupported);
}

std::vector<std::byte> export_bytes(ExportFormat format, const ExportContents& c,
                                    const std::string& where) {
    const int64_t S = c.seq;
    const std::vector<int64_t> shape = {int64_t(c.layers.size()), int64_t(c.heads.size()), S, S};
    if (c.maps.size() != size_t(shape[0] * shape[1] * S * S))
        throw Error(
            where + ": " + std::to_string(c.maps.size()) + " values for shape " + shape_text(shape),
            Status::BadArgument);
    if (format == ExportFormat::Npy) return npy_bytes(shape, c.maps);
    nlohmann::json config;
    if (c.config)
        config = {{"model_type", c.config->model_type},
                  {"n_layer", c.config->n_layer},
                  {"n_head", c.config->n_head},
                  {"d_model", c.config->d_model},
                  {"d_ff", c.config->d_ff},
                  {"vocab_size", c.config->vocab_size}};
    if (format == ExportFormat::Npz) {
        std::vector<NpzArray> arrays = {npz_floats("attentions", shape, c.maps)};
        if (!c.ids.empty()) arrays.push_back(npz_ints("ids", c.ids));
        if (!c.type_ids.empty()) arrays.push_back(npz_ints("type_ids", c.type_ids));
        arrays.push_back(npz_strings("tokens", c.tokens));
        arrays.push_back(
            npz_ints("layers", std::vector<int32_t>(c.layers.begin(), c.layers.end())));
        arrays.push_back(npz_ints("heads", std::vector<int32_t>(c.heads.begin(), c.heads.end())));
        if (!c.word_ids.empty()) arrays.push_back(npz_ints("word_ids", c.word_ids));
        return npz_bytes(arrays, where);
    }
    // error_handler replace: labels may hold any bytes (--tokens files, hm_read_params.tokens,
    // a hostile vocabulary); without it dump() throws nlohmann's type_error on invalid UTF-8.
    const auto text = [](const nlohmann::json& value) {
        return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    if (format == ExportFormat::Safetensors) {
        const TensorToWrite tensor{"attentions", DType::F32, shape, c.maps};
        std::map<std::string, std::string> metadata = {
            {"tokens", text(c.tokens)}, {"layers", text(c.layers)}, {"heads", text(c.heads)}};
        if (!c.ids.empty()) metadata["ids"] = text(c.ids);
        if (!c.type_ids.empty()) metadata["type_ids"] = text(c.type_ids);
        if (c.config) metadata["config"] = text(config);
        if (!c.word_ids.empty()) metadata["word_ids"] = text(c.word_ids);
        return safetensors_bytes(std::span(&tensor, 1), metadata, where);
    }
    nlohmann::json attentions = nlohmann::json::array();
    size_t at = 0;
    for (size_t l = 0; l < c.layers.size(); ++l) {
        nlohmann::json layer = nlohmann::json::array();
        for (size_t h = 0; h < c.heads.size(); ++h) {
            nlohmann::json map = nlohmann::json::array();
            for (int64_t i = 0; i < S; ++i, at += size_t(S))
                map.push_back(std::vector<float>(c.maps.begin() + std::ptrdiff_t(at),
                                                 c.maps.begin() + std::ptrdiff_t(at + size_t(S))));
            layer.push_back(std::move(map));
        }
        attentions.push_back(std::move(layer));
    }
    nlohmann::json doc = {{"model", c.model}};
    if (c.config) doc["config"] = config;
    doc["tokens"] = c.tokens;
    if (!c.ids.empty()) doc["ids"] = c.ids;
    if (!c.type_ids.empty()) doc["type_ids"] = c.type_ids;
    doc["layers"] = c.layers;
    doc["heads"] = c.heads;
    doc["shape"] = shape;
    doc["attentions"] = std::move(attentions);
    if (!c.word_ids.empty()) doc["word_ids"] = c.word_ids;
    const std::string json_text = text(doc) + "\n";
    const auto bytes = std::as_bytes(std::span(json_text.data(), json_text.size()));
    return {bytes.begin(), bytes.end()};
}

}  // namespace headmap
