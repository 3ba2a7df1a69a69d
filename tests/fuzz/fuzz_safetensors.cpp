// Fuzz target: a safetensors file's bytes (engine/safetensors_header.cpp), read with the default
// limits and with a small model's, then every float tensor converted as the weight store does.
#include <cstdint>

#include "engine/safetensors.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const std::byte> bytes = fuzz::bytes_of(data, size);
    for (const headmap::SafetensorsLimits& limits :
         {headmap::SafetensorsLimits{}, headmap::model_archive_limits(28, "fuzz")}) {
        try {
            const std::vector<headmap::TensorView> views =
                headmap::parse_safetensors_bytes(bytes, "fuzz.safetensors", limits);
            if (views.size() > limits.max_tensors) fuzz::broken("more tensors than the limit");
            for (const headmap::TensorView& view : views) {
                // Views must lie inside the input, and match their shape and dtype.
                if (view.bytes.data() < bytes.data() ||
                    view.bytes.data() + view.bytes.size() > bytes.data() + bytes.size())
                    fuzz::broken("a view outside the file");
                const size_t element = headmap::dtype_size(view.dtype);
                if (element > 0 && size_t(view.numel()) * element != view.bytes.size())
                    fuzz::broken("a view whose size is not its shape's");
                if (view.dtype == headmap::DType::F32 || view.dtype == headmap::DType::F16 ||
                    view.dtype == headmap::DType::BF16) {
                    const std::vector<float> values = headmap::tensor_to_floats(view);
                    if (values.size() != size_t(view.numel())) fuzz::broken("conversion size");
                }
            }
        } catch (const headmap::Error&) {
        }
    }
    return 0;
}
