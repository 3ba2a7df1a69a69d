// The main of a GPU suite (test_cuda_*): with no usable CUDA device it prints why and exits 77,
// which ctest reports as "Skipped" (SKIP_RETURN_CODE), never as passed.
#pragma once

#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "kernels/cuda/runtime.h"

int main(int argc, char** argv) {
    std::string why;
    if (headmap::cuda::device_count(&why) == 0) {
        std::printf("SKIPPED: no CUDA device (%s); these GPU tests did not run\n", why.c_str());
        return 77;
    }
    std::printf("CUDA device 0: %s\n", headmap::cuda::device_description(0).c_str());
    doctest::Context context(argc, argv);
    return context.run();
}
