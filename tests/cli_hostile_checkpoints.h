// Hostile checkpoints for the bad-input CLI tests: broken copies of gpt2-tiny built in temp dirs,
// by hand (raw safetensors bytes, with the header patched) or with headmap::write_safetensors.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_test_support.h"
#include "engine/safetensors.h"
#include "test_support.h"

namespace cli_test {

// One tensor as raw bytes, for writing safetensors files by hand.
struct RawTensor {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::string bytes;
};

inline std::vector<RawTensor> load_raw(const fs::path& file) {
    const headmap::SafetensorsArchive archive = headmap::SafetensorsArchive::open(file);
    std::vector<RawTensor> out;
    for (const headmap::TensorView& v : archive.tensors())
        out.push_back({v.name, v.dtype_text, v.shape,
                       std::string(reinterpret_cast<const char*>(v.bytes.data()), v.bytes.size())});
    return out;
}

inline RawTensor& find_raw(std::vector<RawTensor>& tensors, const std::string& name) {
    for (RawTensor& t : tensors)
        if (t.name == name) return t;
    FAIL("no tensor ", name);
    return tensors.front();
}

// 8-byte little-endian header length + JSON header + data, tensors laid out back to back;
// `patch` may edit the header (offsets, dtypes) before it is written.
inline void write_raw(const fs::path& path, const std::vector<RawTensor>& tensors,
                      const std::function<void(json&)>& patch = {}) {
    json header = json::object();
    header["__metadata__"] = {{"format", "pt"}};
    std::string data;
    for (const RawTensor& t : tensors) {
        header[t.name] = {{"dtype", t.dtype},
                          {"shape", t.shape},
                          {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
        data += t.bytes;
    }
    if (patch) patch(header);
    const std::string text = header.dump();
    const uint64_t length = text.size();
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &length, 8);
    write_file(path, bytes + text + data);
}

// A writable copy of gpt2-tiny (config.json + model.safetensors) in a temp dir, and an empty
// output directory beside it.
struct TinyCopy {
    TempDir dir;
    fs::path model = dir / "model";
    fs::path out_dir = dir / "out";
    fs::path out = out_dir / "attn.npy";
    explicit TinyCopy(bool copy_weights = true) {
        fs::create_directories(model);
        fs::create_directories(out_dir);
        fs::copy_file(kTiny / "config.json", model / "config.json");
        if (copy_weights) fs::copy_file(kTiny / "model.safetensors", model / "model.safetensors");
    }
    fs::path weights() const { return model / "model.safetensors"; }
    // `export` of the seed sentence from this model into `out`.
    std::string export_args(const std::string& extra = "") const {
        return fast_export_args(model, kSeed, out, extra);
    }
    CommandResult run_export(const std::string& extra = "") const {
        return run_cli(export_args(extra));
    }
    // The failure leaves the output directory empty.
    void check_failed(const CommandResult& r, const std::string& needle) const {
        check_error(r, needle);
        check_no_output(out);
        CHECK(entries(out_dir).empty());
    }
};

// A broken copy of gpt2-tiny: `damage` rewrites or removes its model.safetensors (or edits the
// config.json beside it).
struct Hostile {
    std::string name;
    std::function<void(const fs::path& weights_file)> damage;
    std::vector<std::string> needles;  // each must appear in the one error line
};

// Builds every broken copy, runs export on all of them (a few at a time), and checks each
// failed cleanly with a message holding its needles.
inline void expect_failures(const std::vector<Hostile>& cases) {
    std::vector<std::unique_ptr<TinyCopy>> copies;
    std::vector<std::string> args;
    for (const Hostile& c : cases) {
        copies.push_back(std::make_unique<TinyCopy>());
        c.damage(copies.back()->weights());
        args.push_back(copies.back()->export_args());
    }
    const std::vector<CommandResult> results = run_many(args);
    for (size_t i = 0; i < cases.size(); ++i) {
        INFO(cases[i].name);
        copies[i]->check_failed(results[i], cases[i].needles.front());
        for (const std::string& needle : cases[i].needles) CHECK(contains(results[i].err, needle));
    }
}

// gpt2-tiny's float tensors as fp32 (the legacy BOOL buffers left out), for write_safetensors.
struct FloatTiny {
    // get() caches conversions, hence mutable; F32 tensors are viewed in place.
    mutable headmap::WeightStore store{
        headmap::SafetensorsArchive::open(kTiny / "model.safetensors")};
};

inline std::vector<headmap::TensorToWrite> float_tensors(const FloatTiny& tiny) {
    headmap::WeightStore& store = tiny.store;
    std::vector<headmap::TensorToWrite> out;
    for (const headmap::TensorView& v : store.archive().tensors())
        if (v.dtype == headmap::DType::F32)
            out.push_back({v.name, headmap::DType::F32, v.shape, store.get(v.name, v.shape)});
    return out;
}

inline void edit_config(const fs::path& model, const std::function<void(json&)>& edit) {
    json config = read_json(model / "config.json");
    edit(config);
    write_file(model / "config.json", config.dump(2));
}

}  // namespace cli_test
