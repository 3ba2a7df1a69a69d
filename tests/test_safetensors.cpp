// Tests for the safetensors reader/writer: round trips, conversions, and hostile files built
// byte by byte in a temporary directory.
#include <doctest/doctest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/safetensors.h"
#include "headmap/error.hpp"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace headmap;
using test_support::TempDir;

namespace {

void write_bytes(const fs::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

// A safetensors file from a header text and `data_size` bytes of data (byte i holds i % 251).
void write_raw(const fs::path& path, std::string_view header, std::size_t data_size,
               std::optional<uint64_t> declared_length = std::nullopt) {
    const uint64_t length = declared_length.value_or(header.size());
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &length, 8);
    bytes += header;
    for (std::size_t i = 0; i < data_size; ++i) bytes.push_back(static_cast<char>(i % 251));
    write_bytes(path, bytes);
}

// Runs `action`, which must throw headmap::Error, and returns the message after checking that it
// is one line.
std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        const std::string message = e.what();
        CHECK_MESSAGE(message.find('\n') == std::string::npos, message);
        CHECK_MESSAGE(message.find('\r') == std::string::npos, message);
        CHECK(!message.empty());
        return message;
    }
    FAIL("expected headmap::Error, nothing was thrown");
    return {};
}

std::string open_error(const fs::path& path) {
    return error_of([&] { SafetensorsArchive::open(path); });
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

uint32_t bits_of(float f) {
    return std::bit_cast<uint32_t>(f);
}

}  // namespace

TEST_CASE("fp16 conversion: exact values, rounding ties, subnormals, inf and nan") {
    CHECK(float_to_half(0.0f) == 0x0000);
    CHECK(float_to_half(-0.0f) == 0x8000);
    CHECK(float_to_half(1.0f) == 0x3c00);
    CHECK(float_to_half(-2.0f) == 0xc000);
    CHECK(float_to_half(65504.0f) == 0x7bff);
    CHECK(half_to_float(0x3c00) == 1.0f);
    CHECK(half_to_float(0x7bff) == 65504.0f);
    CHECK(half_to_float(0x3555) == 0.333251953125f);

    // Ties go to the even mantissa: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
    CHECK(float_to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);
    CHECK(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);
    // Just above the tie rounds up.
    CHECK(float_to_half(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)) == 0x3c01);
    // Carry out of the mantissa bumps the exponent: 2 - 2^-12 rounds to 2.
    CHECK(float_to_half(2.0f - std::ldexp(1.0f, -12)) == 0x4000);

    // Overflow: 65519 rounds down to 65504, the tie 65520 goes to even = inf.
    CHECK(float_to_half(65519.0f) == 0x7bff);
    CHECK(float_to_half(65520.0f) == 0x7c00);
    CHECK(float_to_half(1e10f) == 0x7c00);
    CHECK(float_to_half(-1e10f) == 0xfc00);
    CHECK(float_to_half(std::numeric_limits<float>::infinity()) == 0x7c00);
    CHECK(std::isinf(half_to_float(0x7c00)));
    CHECK(half_to_float(0xfc00) < 0);

    // Subnormals: smallest is 2^-24, largest 1023 * 2^-24; smallest normal 2^-14.
    CHECK(float_to_half(std::ldexp(1.0f, -24)) == 0x0001);
    CHECK(half_to_float(0x0001) == std::ldexp(1.0f, -24));
    CHECK(half_to_float(0x03ff) == std::ldexp(1023.0f, -24));
    CHECK(float_to_half(std::ldexp(1023.0f, -24)) == 0x03ff);
    CHECK(float_to_half(std::ldexp(1.0f, -14)) == 0x0400);
    CHECK(half_to_float(0x8001) == -std::ldexp(1.0f, -24));
    // 2^-25 is a tie between 0 and 2^-24 and goes to even (0); a bit more goes to 2^-24.
    CHECK(float_to_half(std::ldexp(1.0f, -25)) == 0x0000);
    CHECK(float_to_half(std::ldexp(1.5f, -25)) == 0x0001);
    // 3 * 2^-25 is a tie between 1 and 2 (units of 2^-24): even is 2.
    CHECK(float_to_half(std::ldexp(3.0f, -25)) == 0x0002);
    CHECK(float_to_half(std::ldexp(1.0f, -30)) == 0x0000);
    CHECK(float_to_half(-std::ldexp(1.0f, -30)) == 0x8000);
    // Largest subnormal rounded up becomes the smallest normal.
    CHECK(float_to_half(std::ldexp(1023.75f, -24)) == 0x0400);
    // fp32 subnormals flush to (signed) zero in fp16.
    CHECK(float_to_half(std::numeric_limits<float>::denorm_min()) == 0x0000);

    // nan stays nan (quiet), including a nan whose payload lives only in the low bits.
    const uint16_t nan_half = float_to_half(std::numeric_limits<float>::quiet_NaN());
    CHECK((nan_half & 0x7c00) == 0x7c00);
    CHECK((nan_half & 0x03ff) != 0);
    CHECK(std::isnan(half_to_float(nan_half)));
    const uint16_t low_payload = float_to_half(std::bit_cast<float>(0x7f800001u));
    CHECK((low_payload & 0x03ff) != 0);
    CHECK(std::isnan(half_to_float(0x7e00)));

    // Every finite half survives a round trip through fp32.
    for (uint32_t h = 0; h < 0x10000; ++h) {
        if ((h & 0x7c00) == 0x7c00) continue;
        const auto half = static_cast<uint16_t>(h);
        if (float_to_half(half_to_float(half)) != half) {
            FAIL("half round trip failed for 0x" << std::hex << h);
        }
    }
}

TEST_CASE("bf16 conversion: rounding ties, subnormals, inf and nan") {
    CHECK(float_to_bf16(1.0f) == 0x3f80);
    CHECK(bf16_to_float(0x3f80) == 1.0f);
    CHECK(float_to_bf16(-0.0f) == 0x8000);
    // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1).
    CHECK(float_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);
    CHECK(float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82);
    CHECK(float_to_bf16(std::nextafter(1.0f + std::ldexp(1.0f, -8), 2.0f)) == 0x3f81);
    // Largest float rounds up to inf; inf stays inf.
    CHECK(float_to_bf16(std::numeric_limits<float>::max()) == 0x7f80);
    CHECK(float_to_bf16(std::numeric_limits<float>::infinity()) == 0x7f80);
    CHECK(float_to_bf16(-std::numeric_limits<float>::infinity()) == 0xff80);
    CHECK(std::isinf(bf16_to_float(0x7f80)));
    // bf16 has the fp32 exponent range, so fp32 subnormals stay subnormal.
    CHECK(float_to_bf16(std::ldexp(1.0f, -133)) == 0x0001);
    CHECK(bf16_to_float(0x0001) == std::ldexp(1.0f, -133));
    CHECK(float_to_bf16(std::numeric_limits<float>::denorm_min()) == 0x0000);  // tie -> even 0
    // nan with payload only in the low 16 bits must not truncate to inf.
    const uint16_t nan_bf16 = float_to_bf16(std::bit_cast<float>(0x7f800001u));
    CHECK(std::isnan(bf16_to_float(nan_bf16)));
    CHECK(std::isnan(bf16_to_float(float_to_bf16(-std::numeric_limits<float>::quiet_NaN()))));
    CHECK(bits_of(bf16_to_float(0xc0a0)) == 0xc0a00000u);  // -5
}

TEST_CASE("round trip: write F32/F16/BF16 and read back through WeightStore") {
    TempDir dir;
    const fs::path file = dir.path / "model.safetensors";
    std::vector<float> matrix(6);
    for (std::size_t i = 0; i < matrix.size(); ++i) matrix[i] = 0.5f * static_cast<float>(i) - 1.0f;
    const std::vector<float> halves = {1.0f, -2.5f, 65504.0f, 0.1f};
    const std::vector<float> brains = {3.0f, -0.15625f, 1e30f};
    const std::vector<float> scalar = {42.0f};
    const TensorToWrite tensors[] = {
        {"h.0.weight", DType::F32, {2, 3}, matrix}, {"h.0.half", DType::F16, {4}, halves},
        {"h.0.brain", DType::BF16, {3, 1}, brains}, {"scalar", DType::F32, {}, scalar},
        {"empty", DType::F32, {0, 5}, {}},
    };
    write_safetensors(file, tensors);
    CHECK(fs::exists(file));
    for (const auto& entry : fs::directory_iterator(dir.path)) {
        CHECK_MESSAGE(entry.path() == file, "leftover temporary file " << entry.path());
    }

    // The data section starts 8-byte aligned, header padded with spaces, metadata format pt.
    std::ifstream in(file, std::ios::binary);
    uint64_t header_length = 0;
    in.read(reinterpret_cast<char*>(&header_length), 8);
    CHECK(header_length % 8 == 0);
    std::string header(header_length, '\0');
    in.read(header.data(), static_cast<std::streamsize>(header_length));
    CHECK(contains(header, R"("__metadata__":{"format":"pt"})"));
    CHECK(header.front() == '{');

    SafetensorsArchive archive = SafetensorsArchive::open(dir.path);  // directory form
    REQUIRE(archive.tensors().size() == 5);
    const TensorView* view = archive.find("h.0.half");
    REQUIRE(view != nullptr);
    CHECK(view->dtype == DType::F16);
    CHECK(view->shape == std::vector<int64_t>{4});
    CHECK(view->bytes.size() == 8);
    CHECK(view->numel() == 4);
    CHECK(archive.find("h.0") == nullptr);
    CHECK(archive.find("h.0.half.") == nullptr);
    CHECK(archive.find("H.0.HALF") == nullptr);  // names are exact

    WeightStore store(std::move(archive));
    const std::span<const float> read_matrix = store.get("h.0.weight", {2, 3});
    REQUIRE(read_matrix.size() == 6);
    for (std::size_t i = 0; i < matrix.size(); ++i) CHECK(read_matrix[i] == matrix[i]);
    // F32 is used in place: the pointer lies inside the mapped bytes of that tensor.
    const TensorView* matrix_view = store.archive().find("h.0.weight");
    REQUIRE(matrix_view != nullptr);
    CHECK(static_cast<const void*>(read_matrix.data()) ==
          static_cast<const void*>(matrix_view->bytes.data()));

    const std::span<const float> read_halves = store.get("h.0.half", {4});
    REQUIRE(read_halves.size() == 4);
    CHECK(read_halves[0] == 1.0f);
    CHECK(read_halves[1] == -2.5f);
    CHECK(read_halves[2] == 65504.0f);
    CHECK(read_halves[3] == half_to_float(float_to_half(0.1f)));
    CHECK(read_halves[3] != 0.1f);  // really went through fp16
    CHECK(static_cast<const void*>(read_halves.data()) !=
          static_cast<const void*>(store.archive().find("h.0.half")->bytes.data()));
    // Converted once: a second get returns the same buffer.
    CHECK(store.get("h.0.half", {4}).data() == read_halves.data());

    const std::span<const float> read_brains = store.get("h.0.brain", {3, 1});
    REQUIRE(read_brains.size() == 3);
    CHECK(read_brains[0] == 3.0f);
    CHECK(read_brains[1] == -0.15625f);
    CHECK(read_brains[2] == bf16_to_float(float_to_bf16(1e30f)));

    const std::span<const float> read_scalar = store.get("scalar", {});
    REQUIRE(read_scalar.size() == 1);
    CHECK(read_scalar[0] == 42.0f);
    CHECK(store.get("empty", {0, 5}).empty());
    CHECK(store.contains("scalar"));
    CHECK_FALSE(store.contains("nope"));
}

TEST_CASE("unaligned F32 tensor is copied, values intact") {
    TempDir dir;
    const fs::path file = dir.path / "unaligned.safetensors";
    // The tensor starts 2 bytes into the data section; pad the header so that its file offset
    // (8 + header + 2) is odd, hence not 4-byte aligned in the page-aligned mapping.
    std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[2,10]}})";
    while ((10 + header.size()) % 4 != 1) header.push_back(' ');
    const float values[2] = {1.25f, -7.5f};
    std::string data(2, 'x');
    data.append(reinterpret_cast<const char*>(values), sizeof values);
    uint64_t length = header.size();
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &length, 8);
    write_bytes(file, bytes + header + data);

    WeightStore store(SafetensorsArchive::open(file));
    const TensorView* view = store.archive().find("a");
    REQUIRE(view != nullptr);
    REQUIRE(reinterpret_cast<std::uintptr_t>(view->bytes.data()) % alignof(float) != 0);
    const std::span<const float> read = store.get("a", {2});
    REQUIRE(read.size() == 2);
    CHECK(static_cast<const void*>(read.data()) != static_cast<const void*>(view->bytes.data()));
    CHECK(reinterpret_cast<std::uintptr_t>(read.data()) % alignof(float) == 0);
    CHECK(read[0] == 1.25f);
    CHECK(read[1] == -7.5f);
}

TEST_CASE("truncated files") {
    TempDir dir;
    const fs::path empty = dir.path / "empty.safetensors";
    write_bytes(empty, "");
    std::string message = open_error(empty);
    CHECK(contains(message, "empty.safetensors"));
    CHECK(contains(message, "empty"));

    const fs::path tiny = dir.path / "tiny.safetensors";
    write_bytes(tiny, "abc");
    message = open_error(tiny);
    CHECK(contains(message, "tiny.safetensors"));
    CHECK(contains(message, "3 bytes"));

    // Header length says 80 but the file ends after 20 header bytes.
    const fs::path cut = dir.path / "cut.safetensors";
    write_raw(cut, R"({"a":{"dtype":"F32",)", 0, 80);
    message = open_error(cut);
    CHECK(contains(message, "cut.safetensors"));
    CHECK(contains(message, "header length 80 exceeds file size 28"));

    // Header length fits, but the JSON stops in the middle.
    const fs::path half_json = dir.path / "half_json.safetensors";
    write_raw(half_json, R"({"a":{"dtype":"F32","shape":[1],)", 0);
    message = open_error(half_json);
    CHECK(contains(message, "half_json.safetensors"));
    CHECK(contains(message, "not valid JSON"));

    // A huge declared length (as from reading a non-safetensors file).
    const fs::path huge = dir.path / "huge.safetensors";
    write_raw(huge, "{}", 0, 0xffffffffffffffffull);
    message = open_error(huge);
    CHECK(contains(message, "header length 18446744073709551615 exceeds file size 10"));

    const fs::path missing = dir.path / "missing.safetensors";
    message = open_error(missing);
    CHECK(contains(message, "missing.safetensors"));
    CHECK(contains(message, "cannot open"));

    message = open_error(dir.path);  // directory without model files
    CHECK(contains(message, dir.path.string()));
    CHECK(contains(message, "model.safetensors"));
}

TEST_CASE("header that is not a JSON object") {
    TempDir dir;
    const fs::path file = dir.path / "bad.safetensors";
    write_raw(file, "this is not json", 0);
    std::string message = open_error(file);
    CHECK(contains(message, "bad.safetensors"));
    CHECK(contains(message, "not valid JSON"));

    write_raw(file, "[1, 2, 3]", 0);
    message = open_error(file);
    CHECK(contains(message, "expected a JSON object, found array"));

    write_raw(file, "\"x\"\n\n", 0);  // newlines in the input must not leak into the message
    message = open_error(file);
    CHECK(contains(message, "expected a JSON object"));

    write_raw(file, "{\"a\":\n}", 0);
    message = open_error(file);
    CHECK(contains(message, "not valid JSON"));

    // A deeply nested header is refused before parsing.
    write_raw(file, std::string(100000, '['), 0);
    message = open_error(file);
    CHECK(contains(message, "nested deeper"));

    write_raw(file, R"({"a": 5})", 0);
    message = open_error(file);
    CHECK(contains(message, "tensor 'a'"));
    CHECK(contains(message, "expected an object"));

    write_raw(file, R"({"a": {"shape":[1],"data_offsets":[0,4]}})", 4);
    message = open_error(file);
    CHECK(contains(message, "tensor 'a'"));
    CHECK(contains(message, "dtype"));

    write_raw(file, R"({"a": {"dtype":"F32","data_offsets":[0,4]}})", 4);
    CHECK(contains(open_error(file), "'shape'"));

    write_raw(file, R"({"a": {"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4);
    CHECK(contains(open_error(file), "data_offsets"));

    write_raw(file, R"({"a": {"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}})", 4);
    CHECK(contains(open_error(file), "data_offsets"));
}

TEST_CASE("bad shapes: negative, non-integer, overflowing") {
    TempDir dir;
    const fs::path file = dir.path / "shape.safetensors";
    write_raw(file, R"({"w":{"dtype":"F32","shape":[-1, 4],"data_offsets":[0,16]}})", 16);
    std::string message = open_error(file);
    CHECK(contains(message, "tensor 'w'"));
    CHECK(contains(message, "non-negative integers"));

    write_raw(file, R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,16]}})", 16);
    CHECK(contains(open_error(file), "non-negative integers"));
    write_raw(file, R"({"w":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}})", 16);
    CHECK(contains(open_error(file), "non-negative integers"));
    write_raw(file, R"({"w":{"dtype":"F32","shape":["4"],"data_offsets":[0,16]}})", 16);
    CHECK(contains(open_error(file), "non-negative integers"));
    write_raw(file, R"({"w":{"dtype":"F32","shape":4,"data_offsets":[0,16]}})", 16);
    CHECK(contains(open_error(file), "'shape'"));

    write_raw(file,
              R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,16]}})",
              16);
    message = open_error(file);
    CHECK(contains(message, "tensor 'w'"));
    CHECK(contains(message, "too many elements"));

    // numel fits int64 but numel * 4 bytes does not.
    write_raw(file, R"({"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,16]}})",
              16);
    CHECK(contains(open_error(file), "data_offsets span 16 bytes"));
}

TEST_CASE("bad offsets: out of range, overlapping, size mismatch") {
    TempDir dir;
    const fs::path file = dir.path / "offsets.safetensors";
    write_raw(file, R"({"x":{"dtype":"U8","shape":[10],"data_offsets":[10,20]}})", 8);
    std::string message = open_error(file);
    CHECK(contains(message, "offsets.safetensors"));
    CHECK(contains(message,
                   "tensor 'x': data offsets [10, 20) out of range of data section of 8 "
                   "bytes"));

    write_raw(file, R"({"x":{"dtype":"U8","shape":[0],"data_offsets":[5,4]}})", 8);
    CHECK(contains(open_error(file), "data offsets [5, 4) out of range"));

    write_raw(file, R"({"x":{"dtype":"U8","shape":[2],"data_offsets":[-2,0]}})", 8);
    CHECK(contains(open_error(file), "data_offsets"));

    write_raw(file,
              R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
              16);
    message = open_error(file);
    CHECK(contains(message, "'a' [0, 16)"));
    CHECK(contains(message, "'b' [8, 16)"));
    CHECK(contains(message, "overlap"));

    // Adjacent ranges and zero-size tensors are fine.
    write_raw(file,
              R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
              R"("c":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})",
              16);
    CHECK(SafetensorsArchive::open(file).tensors().size() == 3);

    write_raw(file, R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16);
    message = open_error(file);
    CHECK(contains(message, "tensor 'w'"));
    CHECK(contains(message, "shape [3] of F32 needs 3 x 4 bytes"));
    CHECK(contains(message, "span 16 bytes"));

    write_raw(file, R"({"w":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,16]}})", 16);
    CHECK(contains(open_error(file), "shape [2, 2] of BF16"));

    // Known exotic dtype sizes are checked too.
    write_raw(file, R"({"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,16]}})", 16);
    CHECK(contains(open_error(file), "F8_E4M3"));

    // "__metadata__" is a map of strings, or the header is broken.
    for (const char* metadata : {"5", "[1,2]", R"({"format":1})"}) {
        INFO(metadata);
        write_raw(file,
                  std::string(R"({"__metadata__":)") + metadata +
                      R"(,"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                  4);
        CHECK(contains(open_error(file), "\"__metadata__\" is not a map of strings"));
    }
}

TEST_CASE("WeightStore errors: missing, unknown or non-float dtype, shape mismatch") {
    TempDir dir;
    const fs::path file = dir.path / "model.safetensors";
    write_raw(file,
              R"({"__metadata__":{"format":"pt"},)"
              R"("h.0.attn.c_attn.weight":{"dtype":"F32","shape":[4,4],"data_offsets":[0,64]},)"
              R"("h.0.attn.bias":{"dtype":"BOOL","shape":[1,1,4,4],"data_offsets":[64,80]},)"
              R"("mask":{"dtype":"U8","shape":[4],"data_offsets":[80,84]},)"
              R"("ids":{"dtype":"I64","shape":[1],"data_offsets":[84,92]},)"
              R"("fp8":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[92,96]},)"
              R"("weird":{"dtype":"Q4_K","shape":[4],"data_offsets":[96,99]}})",
              99);
    // Structural validation only: BOOL/U8/I64/unknown tensors that no one requests are fine.
    SafetensorsArchive archive = SafetensorsArchive::open(file);
    CHECK(archive.tensors().size() == 6);
    REQUIRE(archive.find("fp8") != nullptr);
    CHECK(archive.find("fp8")->dtype == DType::Other);
    CHECK(archive.find("fp8")->dtype_text == "F8_E4M3");
    CHECK(archive.find("h.0.attn.bias")->dtype == DType::BOOL);
    CHECK(archive.find("weird")->bytes.size() == 3);
    WeightStore store(std::move(archive));

    std::string message = error_of([&] { store.get("wte.weight", {4, 4}); });
    CHECK(contains(message, "tensor 'wte.weight'"));
    CHECK(contains(message, "missing"));
    CHECK(contains(message, file.string()));

    message = error_of([&] { store.get("fp8", {4}); });
    CHECK(contains(message, "tensor 'fp8'"));
    CHECK(contains(message, "F8_E4M3"));
    CHECK(contains(message, "expected F32, F16 or BF16"));

    message = error_of([&] { store.get("h.0.attn.bias", {1, 1, 4, 4}); });
    CHECK(contains(message, "tensor 'h.0.attn.bias'"));
    CHECK(contains(message, "BOOL"));
    message = error_of([&] { store.get("mask", {4}); });
    CHECK(contains(message, "U8"));
    message = error_of([&] { store.get("ids", {1}); });
    CHECK(contains(message, "I64"));

    message = error_of([&] { store.get("h.0.attn.c_attn.weight", {4, 12}); });
    CHECK(message == "tensor 'h.0.attn.c_attn.weight': expected shape [4, 12], found [4, 4]");
    message = error_of([&] { store.get("h.0.attn.c_attn.weight", {16}); });
    CHECK(contains(message, "expected shape [16], found [4, 4]"));
    // Same numel, different rank: still a mismatch. A correct request still works afterwards.
    CHECK(store.get("h.0.attn.c_attn.weight", {4, 4}).size() == 16);
    message = error_of([&] { store.get("h.0.attn.c_attn.weight", {2, 8}); });
    CHECK(contains(message, "expected shape [2, 8], found [4, 4]"));
}

TEST_CASE("writer refuses bad input") {
    TempDir dir;
    const fs::path file = dir.path / "w.safetensors";
    const std::vector<float> three = {1, 2, 3};
    const TensorToWrite wrong_size[] = {{"a", DType::F32, {2, 2}, three}};
    std::string message = error_of([&] { write_safetensors(file, wrong_size); });
    CHECK(contains(message, "tensor 'a'"));
    CHECK(contains(message, "[2, 2]"));
    const TensorToWrite bad_dtype[] = {{"a", DType::U8, {3}, three}};
    CHECK(contains(error_of([&] { write_safetensors(file, bad_dtype); }), "U8"));
    const TensorToWrite twice[] = {{"a", DType::F32, {3}, three}, {"a", DType::F16, {3}, three}};
    CHECK(contains(error_of([&] { write_safetensors(file, twice); }), "twice"));
    const TensorToWrite negative[] = {{"a", DType::F32, {-3}, three}};
    CHECK(contains(error_of([&] { write_safetensors(file, negative); }), "[-3]"));
    CHECK_FALSE(fs::exists(file));
    const fs::path nowhere = dir.path / "no_such_dir" / "x.safetensors";
    const TensorToWrite good[] = {{"a", DType::F32, {3}, three}};
    CHECK(contains(error_of([&] { write_safetensors(nowhere, good); }), "no_such_dir"));
}

namespace {

// Two shards and an index that maps tensors to them; returns the index path.
fs::path write_sharded(const fs::path& dir, const std::string& weight_map) {
    const std::vector<float> first = {1, 2, 3, 4};
    const std::vector<float> second = {5, 6};
    const TensorToWrite shard1[] = {{"wte.weight", DType::F32, {2, 2}, first}};
    const TensorToWrite shard2[] = {{"ln_f.weight", DType::F16, {2}, second},
                                    {"ln_f.bias", DType::BF16, {2}, second}};
    write_safetensors(dir / "model-00001-of-00002.safetensors", shard1);
    write_safetensors(dir / "model-00002-of-00002.safetensors", shard2);
    const fs::path index = dir / "model.safetensors.index.json";
    write_bytes(index, R"({"metadata":{"total_size":28},"weight_map":)" + weight_map + "}");
    return index;
}

const char* kGoodWeightMap = R"({"wte.weight":"model-00001-of-00002.safetensors",)"
                             R"("ln_f.weight":"model-00002-of-00002.safetensors",)"
                             R"("ln_f.bias":"model-00002-of-00002.safetensors"})";

}  // namespace

TEST_CASE("sharded checkpoint with two shards") {
    TempDir dir;
    const fs::path index = write_sharded(dir.path, kGoodWeightMap);
    for (const fs::path& path : {index, dir.path}) {  // index file, and the directory form
        WeightStore store(SafetensorsArchive::open(path));
        CHECK(store.archive().tensors().size() == 3);
        const std::span<const float> wte = store.get("wte.weight", {2, 2});
        REQUIRE(wte.size() == 4);
        CHECK(wte[3] == 4.0f);
        const std::span<const float> ln = store.get("ln_f.weight", {2});
        REQUIRE(ln.size() == 2);
        CHECK(ln[0] == 5.0f);
        CHECK(ln[1] == 6.0f);
        CHECK(store.get("ln_f.bias", {2})[1] == 6.0f);
        CHECK(contains(error_of([&] { store.get("nope", {1}); }), "tensor 'nope' missing"));
    }
}

TEST_CASE("sharded checkpoint errors") {
    TempDir dir;
    fs::path index =
        write_sharded(dir.path, R"({"wte.weight":"model-00001-of-00002.safetensors",)"
                                R"("ln_f.weight":"model-00003-of-00003.safetensors"})");
    std::string message = open_error(index);
    CHECK(contains(message, "model.safetensors.index.json"));
    CHECK(contains(message, "shard 'model-00003-of-00003.safetensors'"));
    CHECK(contains(message, "not found"));

    index = write_sharded(dir.path, R"({"wte.weight":"model-00002-of-00002.safetensors"})");
    message = open_error(index);
    CHECK(contains(message, "tensor 'wte.weight'"));
    CHECK(contains(message, "shard 'model-00002-of-00002.safetensors'"));
    CHECK(contains(message, "no such tensor"));

    index = write_sharded(dir.path, R"({"wte.weight":"../model-00001-of-00002.safetensors"})");
    CHECK(contains(open_error(index), "relative to the index"));
    index = write_sharded(dir.path, R"({"wte.weight":7})");
    CHECK(contains(open_error(index), "entry 'wte.weight' names shard 7"));
    index = write_sharded(dir.path, R"([1])");
    CHECK(contains(open_error(index), "weight_map"));
    write_bytes(index, "{ not json");
    CHECK(contains(open_error(index), "not valid JSON"));

    // The same tensor in two shards.
    const std::vector<float> values = {1, 2, 3, 4};
    const TensorToWrite duplicate[] = {
        {"wte.weight", DType::F32, {2, 2}, values},
        {"ln_f.weight", DType::F32, {2}, std::span(values).first(2)}};
    write_safetensors(dir.path / "model-00002-of-00002.safetensors", duplicate);
    write_bytes(index, std::string(R"({"weight_map":)") + kGoodWeightMap + "}");
    message = open_error(index);
    CHECK(contains(message, "tensor 'wte.weight' appears in both shard"));

    // A broken shard reports the shard's own file name.
    write_bytes(dir.path / "model-00002-of-00002.safetensors", "short");
    message = open_error(index);
    CHECK(contains(message, "model-00002-of-00002.safetensors"));
    CHECK(contains(message, "too short"));
}
