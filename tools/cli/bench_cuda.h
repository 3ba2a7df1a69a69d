// headmap bench --device cuda: per input, the forward with every map on the host, the fused
// attention kernels alone, the map copies, and the bound those map bytes set.
#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"
#include "tokenizer/tokenizer.h"

namespace headmap::cli {

// Prints one JSON line for `inputs` (run one after another, `runs` times after a warm-up); for a
// single input, a second line times the fused attention kernel against the unfused cuBLAS +
// softmax baseline at that shape (engine/cuda_kernel_bench.h).
void print_cuda_bench(Engine& engine, const std::vector<Encoding>& inputs, int runs,
                      const std::string& source_key, const std::string& name);

}  // namespace headmap::cli
