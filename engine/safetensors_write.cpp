// Safetensors writer and the fp16/bf16 <-> fp32 conversions shared by reader and writer.
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "engine/output_file.h"
#include "engine/safetensors.h"
#include "headmap/error.hpp"

namespace headmap {

float half_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    const uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0) {
        // Zero or subnormal: mantissa * 2^-24 is exact in fp32.
        const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
        return sign != 0 ? -magnitude : magnitude;
    }
    if (exponent == 31) {  // inf, or nan with its payload kept
        return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
    }
    return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t float_to_half(float f) {
    const uint32_t bits = std::bit_cast<uint32_t>(f);
    const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
    const uint32_t magnitude = bits & 0x7fffffffu;
    if (magnitude >= 0x7f800000u) {
        if (magnitude == 0x7f800000u) return sign | 0x7c00u;
        // nan: keep the top payload bits and force the quiet bit so it cannot become inf.
        return static_cast<uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
    }
    // 65520 is halfway between 65504 (largest half) and 65536; the tie goes to the even
    // neighbour, which is 65536, i.e. inf.
    if (magnitude >= 0x477ff000u) return sign | 0x7c00u;

    const uint32_t exponent = magnitude >> 23;
    if (exponent < 113) {
        // Below the smallest normal half (2^-14): result is mantissa_with_implicit_bit *
        // 2^(exponent - 150) / 2^-24, a right shift by 126 - exponent with rounding.
        if (exponent < 102) return sign;  // below 2^-25: rounds to zero
        const uint32_t significand = (magnitude & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126 - exponent;  // 14..24
        uint32_t result = significand >> shift;
        const uint32_t remainder = significand & ((1u << shift) - 1);
        const uint32_t halfway = 1u << (shift - 1);
        if (remainder > halfway || (remainder == halfway && (result & 1u))) ++result;
        return static_cast<uint16_t>(sign | result);  // 0x400 here is the smallest normal
    }
    uint32_t result = ((exponent - 112) << 10) | ((magnitude >> 13) & 0x3ffu);
    const uint32_t remainder = magnitude & 0x1fffu;
    // A carry out of the mantissa correctly bumps the exponent.
    if (remainder > 0x1000u || (remainder == 0x1000u && (result & 1u))) ++result;
    return static_cast<uint16_t>(sign | result);
}

float bf16_to_float(uint16_t b) {
    return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

uint16_t float_to_bf16(float f) {
    const uint32_t bits = std::bit_cast<uint32_t>(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) {
        // nan: truncating could clear every payload bit and yield inf, so force the quiet bit.
        return static_cast<uint16_t>((bits >> 16) | 0x0040u);
    }
    // Round to nearest even; an overflow past the largest bf16 lands exactly on inf.
    const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>((bits + rounding) >> 16);
}

namespace {

// Bytes of one tensor as stored in the file.
std::vector<std::byte> encode(const TensorToWrite& tensor) {
    std::vector<std::byte> bytes;
    if (tensor.dtype == DType::F32) {
        bytes.resize(tensor.data.size() * sizeof(float));
        if (!bytes.empty()) std::memcpy(bytes.data(), tensor.data.data(), bytes.size());
        return bytes;
    }
    bytes.resize(tensor.data.size() * sizeof(uint16_t));
    for (std::size_t i = 0; i < tensor.data.size(); ++i) {
        const uint16_t value = tensor.dtype == DType::F16 ? float_to_half(tensor.data[i])
                                                          : float_to_bf16(tensor.data[i]);
        std::memcpy(bytes.data() + 2 * i, &value, sizeof value);  // little-endian host
    }
    return bytes;
}

}  // namespace

std::vector<std::byte> safetensors_bytes(std::span<const TensorToWrite> tensors,
                                         const std::map<std::string, std::string>& metadata,
                                         const std::string& file) {
    static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

    nlohmann::json header = nlohmann::json::object();
    header["__metadata__"] = {{"format", "pt"}};
    for (const auto& [key, value] : metadata) header["__metadata__"][key] = value;
    std::set<std::string, std::less<>> names;
    uint64_t offset = 0;
    for (const TensorToWrite& tensor : tensors) {
        const std::string where = file + ": tensor '" + tensor.name + "'";
        if (tensor.name.empty() || tensor.name == "__metadata__") {
            throw Error(where + ": name is reserved or empty");
        }
        if (!names.insert(tensor.name).second) throw Error(where + ": written twice");
        if (tensor.dtype != DType::F32 && tensor.dtype != DType::F16 &&
            tensor.dtype != DType::BF16) {
            throw Error(where + ": cannot write dtype " + dtype_name(tensor.dtype) +
                        ", expected F32, F16 or BF16");
        }
        uint64_t numel = 1;
        for (int64_t dim : tensor.shape) {
            if (dim < 0 || __builtin_mul_overflow(numel, static_cast<uint64_t>(dim), &numel)) {
                throw Error(where + ": invalid shape " + shape_text(tensor.shape));
            }
        }
        if (numel != tensor.data.size()) {
            throw Error(where + ": shape " + shape_text(tensor.shape) + " holds " +
                        std::to_string(numel) + " elements, but " +
                        std::to_string(tensor.data.size()) + " values were given");
        }
        const uint64_t size = numel * dtype_size(tensor.dtype);
        header[tensor.name] = {{"dtype", dtype_name(tensor.dtype)},
                               {"shape", tensor.shape},
                               {"data_offsets", {offset, offset + size}}};
        offset += size;
    }
    // Metadata and names are the caller's strings: invalid UTF-8 is replaced (U+FFFD) rather than
    // thrown as nlohmann's type_error.
    std::string header_text = header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // Pad with spaces (as the HF writer does) so the data section starts 8-byte aligned.
    header_text.append((8 - header_text.size() % 8) % 8, ' ');
    const uint64_t header_length = header_text.size();

    std::vector<std::byte> out(sizeof header_length + header_text.size());
    std::memcpy(out.data(), &header_length, sizeof header_length);
    std::memcpy(out.data() + sizeof header_length, header_text.data(), header_text.size());
    for (const TensorToWrite& tensor : tensors) {
        const std::vector<std::byte> bytes = encode(tensor);
        out.insert(out.end(), bytes.begin(), bytes.end());
    }
    return out;
}

void write_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata) {
    const std::vector<std::byte> bytes = safetensors_bytes(tensors, metadata, path.string());
    AtomicOutputFile file(path);  // a reader never sees a half-written file
    file.write(bytes);
    file.commit();
}

}  // namespace headmap
