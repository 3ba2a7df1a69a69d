// Saved maps (--from .npy / .safetensors) that are broken or hostile: the .npy header is parsed
// exactly, shapes with a zero or huge dimension are refused before anything is sized from them,
// values that are not attention weights (NaN, infinities, negatives) are refused, and a FIFO
// (here or wherever else a file is read) is not waited on. Each is one line and exit 2, with no
// image left behind; a well-formed file written by hand (as numpy writes it) still loads.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

#include "cli_test_support.h"

using namespace cli_test;

namespace {

// (2, 2, 3, 3) maps whose every row is (0.2, 0.3, 0.5), as raw little-endian float32 bytes;
// `poison` replaces value 31 (map 3, entry (1, 1)).
std::string map_bytes(std::optional<float> poison = std::nullopt) {
    std::vector<float> values;
    for (int row = 0; row < 2 * 2 * 3; ++row)
        for (float v : {0.2f, 0.3f, 0.5f}) values.push_back(v);
    if (poison) values[31] = *poison;
    std::string bytes(values.size() * 4, '\0');
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return bytes;
}

// A version 1.0 .npy file with `header` as its dict text, padded as numpy pads it (spaces and a
// newline up to a multiple of 64 bytes).
std::string npy_file(std::string header, const std::string& data) {
    const size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::string file = "\x93NUMPY";
    file += char(1), file += char(0);
    file += char(header.size() & 0xff), file += char(header.size() >> 8);
    return file + header + data;
}

const std::string kHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3, 3), }";

// A safetensors file with one tensor "attentions" of `shape` over `data`.
std::string safetensors_file(const std::string& shape, const std::string& data) {
    const std::string header = R"({"attentions":{"dtype":"F32","shape":)" + shape +
                               R"(,"data_offsets":[0,)" + std::to_string(data.size()) + "]}}";
    std::string file(8, '\0');
    for (int i = 0; i < 8; ++i) file[size_t(i)] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
    return file + header + data;
}

}  // namespace

TEST_CASE("saved maps: a hand-written numpy header loads, in every spelling numpy uses") {
    TempDir tmp;
    write_file(tmp / "plain.npy", npy_file(kHeader, map_bytes()));
    write_file(
        tmp / "tight.npy",
        npy_file("{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(2,2,3,3)}", map_bytes()));
    write_file(tmp / "upper.NPY", npy_file(kHeader, map_bytes()));  // extensions in any case
    write_file(tmp / "two_d.npy",
               npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }",
                        map_bytes().substr(0, 36)));
    const std::vector<CommandResult> r = run_many({
        "stats --from " + quote((tmp / "plain.npy").string()) + " --format csv",
        "stats --from " + quote((tmp / "tight.npy").string()) + " --format csv",
        "stats --from " + quote((tmp / "two_d.npy").string()) + " --format csv",
        "stats --from " + quote((tmp / "upper.NPY").string()) + " --format csv",
    });
    for (size_t i = 0; i < r.size(); ++i) {
        INFO(i, " stderr: ", r[i].err);
        REQUIRE(r[i].exit_code == 0);
    }
    // 4 heads, then 1: a header line and one line per head.
    CHECK(std::count(r[0].out.begin(), r[0].out.end(), '\n') == 1 + 4);
    CHECK(r[1].out == r[0].out);
    CHECK(std::count(r[2].out.begin(), r[2].out.end(), '\n') == 1 + 1);
    CHECK(r[3].out == r[0].out);
}

TEST_CASE("saved maps: broken headers, shapes and values are one-line errors") {
    TempDir tmp;
    const auto npy = [&](const std::string& name, const std::string& header,
                         const std::string& data) {
        write_file(tmp / name, npy_file(header, data));
        return quote((tmp / name).string());
    };
    const auto st = [&](const std::string& name, const std::string& shape,
                        const std::string& data) {
        write_file(tmp / name, safetensors_file(shape, data));
        return quote((tmp / name).string());
    };
    const std::string data = map_bytes();
    const fs::path out = tmp / "out.png";
    const std::string o = " --out " + quote(out.string());
    const std::vector<ErrorCase> cases = {
        // Big-endian data with a decoy '<f4' in another field: no longer read as little-endian.
        {"heatmap --from " +
             npy("decoy.npy",
                 "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2, 3, 3), "
                 "'note': \"'descr': '<f4'\"}",
                 data) +
             o,
         "unknown key 'note'"},
        {"heatmap --from " +
             npy("big_endian.npy",
                 "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2, 3, 3), }", data) +
             o,
         "unsupported dtype '>f4'"},
        {"heatmap --from " +
             npy("shape_3x.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3, 3x)}",
                 data) +
             o,
         "malformed .npy header"},
        {"stats --from " +
             npy("two_shapes.npy",
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3, 3), 'shape': (1, "
                 "4, 3, 3)}",
                 data),
         "repeated key 'shape'"},
        {"stats --from " + npy("no_order.npy", "{'descr': '<f4', 'shape': (2, 2, 3, 3)}", data),
         "a key is missing"},
        {"stats --from " + npy("negative_dim.npy",
                               "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3)}", data),
         "not a whole number"},
        {"stats --from " + npy("after.npy", kHeader + " extra", data), "after the closing"},
        // Zero and huge dimensions, which once sized vectors or overflowed ints (UBSan).
        {"stats --from " + st("zero_heads.safetensors", "[2147483648,0,3,3]", ""),
         "has a dimension of"},
        {"stats --from " + st("zero_heads_huge_seq.safetensors", "[1,0,2147483648,2147483648]", ""),
         "has a dimension of 0"},
        {"heatmap --from " + st("huge_layers.safetensors", "[3000000000,1,0,0]", "") + o,
         "has a dimension of 3000000000"},
        {"heatmap --from " + st("no_heads.safetensors", "[1,0,3,3]", "") + o,
         "has a dimension of 0"},
        {"stats --from " + st("no_layers.safetensors", "[0,1,3,3]", ""), "has a dimension of 0"},
        // Values that are not attention weights.
        {"heatmap --from " + npy("nan.npy", kHeader, map_bytes(std::nanf(""))) + o, "is nan"},
        {"stats --from " +
             npy("inf.npy", kHeader, map_bytes(std::numeric_limits<float>::infinity())),
         "is inf"},
        {"grid --from " + npy("negative.npy", kHeader, map_bytes(-0.5f)) + o,
         "map 3 entry (1, 1) is -0.5"},
        {"heads --rank entropy --from " +
             st("nan.safetensors", "[2,2,3,3]", map_bytes(std::nanf(""))),
         "expected finite attention weights >= 0"},
    };
    check_errors(cases);
    check_no_output(out);
}

TEST_CASE("a FIFO wherever a file is read is refused at once, not waited on") {
    // With no writer, opening a FIFO for reading blocks forever; every reader opens without
    // blocking and refuses what is not a regular file.
    TempDir tmp;
    const auto fifo = [&](const fs::path& path) { REQUIRE(::mkfifo(path.c_str(), 0600) == 0); };
    for (const char* name : {"pipe.npy", "pipe.safetensors", "texts.txt", "font.ttf"})
        fifo(tmp / name);
    // A model folder whose config.json is a FIFO, and a tokenizer folder whose vocab.json is.
    fs::create_directories(tmp / "model");
    fs::copy_file(kTiny / "model.safetensors", tmp / "model" / "model.safetensors");
    fifo(tmp / "model" / "config.json");
    fs::create_directories(tmp / "tokenizer");
    fs::copy_file(kGpt2Tokenizer / "merges.txt", tmp / "tokenizer" / "merges.txt");
    fifo(tmp / "tokenizer" / "vocab.json");
    const std::string tiny = "--model " + quote(kTiny.string()) + " " + tok_opt();
    const std::vector<ErrorCase> cases = {
        {"stats --from " + quote((tmp / "pipe.npy").string()), "not a regular file"},
        {"stats --from " + quote((tmp / "pipe.safetensors").string()), "not a regular file"},
        {"stats " + tiny + " --texts " + quote((tmp / "texts.txt").string()), "not a regular file"},
        {"heatmap " + tiny + " --text hi --font " + quote((tmp / "font.ttf").string()) + " --out " +
             quote((tmp / "o.png").string()),
         "not a regular file"},
        {"tokenize --model " + quote((tmp / "model").string()) + " " + tok_opt() + " --text hi",
         "config.json: not a regular file"},
        {"tokenize " + tiny.substr(0, tiny.find(" --tokenizer")) + " --tokenizer " +
             quote((tmp / "tokenizer").string()) + " --text hi",
         "vocab.json"},
    };
    check_errors(cases);
    check_no_output(tmp / "o.png");
}
