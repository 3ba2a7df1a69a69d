// --device and --fast on the CLI: bad values are one-line errors with exit 2; --device cuda on a
// build or machine without a CUDA device fails the same way and writes nothing, and where a
// device exists it runs (the GPU parity tests are test_cuda_*).
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "engine/cuda_forward.h"
#include "test_support.h"

using namespace test_support;

namespace {

bool one_line(const std::string& text) {
    return !text.empty() && text.find('\n') == text.size() - 1;
}

const std::string kText = "--text 'Hello world'";  // the default model

}  // namespace

TEST_CASE("--device takes cpu or cuda; --fast needs cuda") {
    TempDir tmp;
    const std::string out = quote((tmp / "map.png").string());
    const CommandResult bad = run_cli("heatmap " + kText + " --device gpu --out " + out);
    CHECK(bad.exit_code == 2);
    CHECK(one_line(bad.err));
    CHECK(bad.err.find("--device 'gpu' (expected cpu or cuda)") != std::string::npos);
    const CommandResult fast = run_cli("heatmap " + kText + " --fast --out " + out);
    CHECK(fast.exit_code == 2);
    CHECK(fast.err.find("--fast applies to --device cuda") != std::string::npos);
    CHECK(!std::filesystem::exists(tmp / "map.png"));
    const CommandResult cpu = run_cli("heatmap " + kText + " --device cpu --out " + out);
    CHECK(cpu.exit_code == 0);
    CHECK(std::filesystem::exists(tmp / "map.png"));
}

TEST_CASE("--device cuda: a one-line error without a device, a result with one") {
    std::string why;
    const bool gpu = headmap::CudaForward::available(&why);
    const std::string state = gpu ? "a CUDA device is present" : "no CUDA device: " + why;
    MESSAGE(state);
    TempDir tmp;
    for (const std::string& command :
         {"heatmap " + kText + " --device cuda --out " + quote((tmp / "a.png").string()),
          "export --model weights/gpt2-tiny-headmap " + kText + " --device cuda --fast --out " +
              quote((tmp / "a.npy").string()),
          "stats " + kText + " --device cuda --format json",
          std::string("bench --config gpt2 --seq 8 --runs 1 --device cuda")}) {
        CAPTURE(command);
        const CommandResult r = run_cli(command);
        if (gpu) {
            CHECK(r.exit_code == 0);
            CHECK((!r.out.empty() || std::filesystem::exists(tmp / "a.png")));
        } else {
            CHECK(r.exit_code == 2);
            CHECK(one_line(r.err));
            CHECK(r.err.find("--device cuda: ") != std::string::npos);
        }
    }
    if (!gpu) {
        CHECK(!std::filesystem::exists(tmp / "a.png"));
        CHECK(!std::filesystem::exists(tmp / "a.npy"));
    }
}
