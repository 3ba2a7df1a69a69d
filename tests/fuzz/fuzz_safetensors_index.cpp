// Fuzz target: model.safetensors.index.json (engine/safetensors_header.cpp's index parser), then
// the whole sharded open: the index is written beside two fixed shards and opened, so the shard
// names it gives (paths, "..", NUL bytes, the same tensor twice) reach SafetensorsArchive::open.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/safetensors.h"
#include "fuzz_support.h"
#include "json_mutator.h"

namespace {

namespace fs = std::filesystem;

const fs::path& scratch_dir() {
    static const fs::path dir = [] {
        const fs::path path =
            fs::temp_directory_path() / ("headmap-fuzz-index-" + std::to_string(::getpid()));
        fs::create_directories(path);
        const std::vector<float> values = {1, 2, 3, 4};
        const headmap::TensorToWrite first[] = {
            {"wte.weight", headmap::DType::F32, {2, 2}, values}};
        const headmap::TensorToWrite second[] = {
            {"ln_f.weight", headmap::DType::F16, {2}, std::span(values).first(2)},
            {"ln_f.bias", headmap::DType::BF16, {2}, std::span(values).first(2)}};
        headmap::write_safetensors(path / "model-00001-of-00002.safetensors", first);
        headmap::write_safetensors(path / "model-00002-of-00002.safetensors", second);
        return path;
    }();
    return dir;
}

struct RemoveAtExit {
    ~RemoveAtExit() {
        std::error_code ignored;
        fs::remove_all(scratch_dir(), ignored);
    }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    static RemoveAtExit remove;
    scratch_dir();
    return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned seed) {
    return fuzz::mutate_json_input(data, size, max_size, seed);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text = fuzz::text_of(data, size);
    const headmap::SafetensorsLimits limits = headmap::model_archive_limits(28, "fuzz");
    try {
        const auto pairs = headmap::parse_safetensors_index(text, "index.json", limits);
        if (pairs.size() > limits.max_tensors) fuzz::broken("more entries than the limit");
    } catch (const headmap::Error&) {
        return 0;
    }
    const fs::path index = scratch_dir() / "model.safetensors.index.json";
    std::ofstream(index, std::ios::binary | std::ios::trunc)
        .write(text.data(), std::streamsize(text.size()));
    try {
        const headmap::SafetensorsArchive archive =
            headmap::SafetensorsArchive::open(index, limits);
        for (const headmap::TensorView& view : archive.tensors())
            if (archive.find(view.name) != &view) fuzz::broken("find() misses a tensor");
    } catch (const headmap::Error&) {
    }
    return 0;
}
