// Saved attention maps read back from bytes: a float32/float16 .npy array, or a tensor of a
// .safetensors file, shaped (layers, heads, S, S), (heads, S, S) or (S, S). Parsers take bytes;
// the I/O room (engine/read_file.h) reads files. Every value is checked finite and >= 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/capture/attention_maps.h"

namespace headmap {

// Saved maps: every dimension 1..2^24 and at most 2^34 values (64 GiB of float32).
constexpr int64_t kMaxMapDimension = int64_t(1) << 24;
constexpr size_t kMaxMapValues = size_t(1) << 34;
// The number of values of `shape`, or headmap::Error (starting with `where`) when a dimension or
// the total is outside those bounds.
size_t checked_element_count(std::span<const int64_t> shape, const std::string& where);

// A float32 or float16 C-order .npy array. The header is parsed exactly (numpy's three keys, once
// each). headmap::Error starts with `where` and says what was wrong.
struct NpyData {
    std::vector<int64_t> shape;
    std::vector<float> values;
};
NpyData parse_npy(std::span<const std::byte> bytes, const std::string& where);
// Any .npy array of a dtype headmap reads ('<f4', '<f2', '<i4', '<i8', '<U{n}'), its data a view
// into `bytes` of exactly shape x item size bytes.
struct NpyArray {
    std::string descr;
    std::vector<int64_t> shape;
    std::span<const std::byte> data;
};
NpyArray parse_npy_array(std::span<const std::byte> bytes, const std::string& where);

// The .npy bytes of a float32 C-order array (format 1.0).
std::vector<std::byte> npy_bytes(std::span<const int64_t> shape, std::span<const float> values);

enum class SavedMapsFormat { Npy, Safetensors, Npz };

// The format of a saved-maps file by its extension, in any case (.npy, .safetensors, .npz); nullopt
// for any other.
std::optional<SavedMapsFormat> saved_maps_format_for(const std::filesystem::path& path);

struct SavedMapsOptions {
    // .safetensors (.npz): the tensor (member, without ".npy") to read; empty: the only one, else
    // one named "attentions".
    std::string tensor;
    std::string layers = "all";  // the layers to keep (a selection, see selection.h)
};

// The maps of one file's bytes. Tokens are the ones a headmap export stored (its .safetensors
// metadata, its .npz's tokens.npy), else "0".."S-1" until set_tokens() names them; a sentence
// pair's split comes from the stored token types. The maps count as causal when every strict upper
// triangle is exactly 0.
AttentionMaps read_saved_maps(std::span<const std::byte> bytes, SavedMapsFormat format,
                              const SavedMapsOptions& options, const std::string& where);

// Labels for saved maps: exactly one per row, else headmap::Error (BadArgument).
void set_tokens(AttentionMaps& maps, std::vector<std::string> tokens);

}  // namespace headmap
