// Fuzz target: a .npy file's bytes (engine/capture/saved_maps.cpp's parse_npy). An array that
// parses holds exactly the values its shape counts, and writes back to the same bytes when it is
// float32 written as headmap writes it.
#include <cstdint>
#include <cstring>

#include "engine/capture/saved_maps.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const headmap::NpyData array = headmap::parse_npy(fuzz::bytes_of(data, size), "fuzz.npy");
        if (headmap::checked_element_count(array.shape, "again") != array.values.size())
            fuzz::broken("values do not match the shape");
        const std::vector<std::byte> written = headmap::npy_bytes(array.shape, array.values);
        const headmap::NpyData again = headmap::parse_npy(written, "written");
        if (again.shape != array.shape || again.values.size() != array.values.size() ||
            std::memcmp(again.values.data(), array.values.data(), array.values.size() * 4) != 0)
            fuzz::broken("npy_bytes does not read back equal");
    } catch (const headmap::Error&) {
    }
    return 0;
}
