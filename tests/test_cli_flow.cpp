// headmap flow end to end on the embedded default model: the (S, S) .npy, the same map as the
// engine computes from exported maps, a drawing, and the failure contract.
#include <doctest/doctest.h>

#include "cli_test_support.h"
#include "engine/analysis/flow.h"

using namespace cli_test;

TEST_CASE("flow on the default model: (S, S), rows sum to 1, causal, same as the engine") {
    TempDir tmp;
    const std::string text = " --text " + quote(kSeed);
    const fs::path model = kSourceDir / "weights" / "gpt2-tiny-headmap";
    const std::vector<CommandResult> r = run_many({
        "flow" + text + " --out " + quote((tmp / "flow.npy").string()),
        "export --model " + quote(model.string()) + text + " --out " +
            quote((tmp / "attn.npy").string()),
        "flow" + text + " --fusion max --discard 0.2 --threads 1 --out " +
            quote((tmp / "flow_max.npy").string()),
        "flow" + text + " --out " + quote((tmp / "flow.png").string()),
    });
    for (const CommandResult& c : r) {
        INFO("stderr: ", c.err);
        REQUIRE(c.exit_code == 0);
    }
    const NpyArray flow = read_npy(tmp / "flow.npy");
    REQUIRE(flow.shape == std::vector<int64_t>{7, 7});
    for (int i = 0; i < 7; ++i) {
        double sum = 0;
        for (int j = 0; j < 7; ++j) {
            const float v = flow.values[size_t(i) * 7 + j];
            sum += v;
            CHECK(v >= 0.0f);
            if (j > i) CHECK(v == 0.0f);  // GPT-2 is causal: nothing flows to a later token
        }
        CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
    }
    CHECK(flow.values[0] == doctest::Approx(1.0));  // the first token only has itself

    // The CLI computes what the engine computes from the same maps.
    const NpyArray maps = read_npy(tmp / "attn.npy");
    REQUIRE(maps.shape.size() == 4);
    REQUIRE(maps.shape[2] == 7);
    const int L = int(maps.shape[0]), H = int(maps.shape[1]);
    const std::vector<float> mean = headmap::analysis::attention_flow(
        maps.values, L, H, 7, headmap::analysis::HeadFusion::Mean, 0.0, 2);
    const std::vector<float> max = headmap::analysis::attention_flow(
        maps.values, L, H, 7, headmap::analysis::HeadFusion::Max, 0.2, 2);
    double worst_mean = 0, worst_max = 0;
    const NpyArray flow_max = read_npy(tmp / "flow_max.npy");
    REQUIRE(flow_max.values.size() == max.size());
    for (size_t k = 0; k < mean.size(); ++k) {
        worst_mean = std::max(worst_mean, double(std::fabs(mean[k] - flow.values[k])));
        worst_max = std::max(worst_max, double(std::fabs(max[k] - flow_max.values[k])));
    }
    CHECK(worst_mean <= 1e-6);
    CHECK(worst_max <= 1e-6);
    CHECK(flow_max.values != flow.values);  // the options took effect

    const std::string png = read_file(tmp / "flow.png");
    CHECK(png.rfind("\x89PNG", 0) == 0);
}

TEST_CASE("flow bad options: exit 2, one line, no output file") {
    TempDir tmp;
    const std::string text = " --text " + quote(kSeed);
    const std::vector<CommandResult> r = run_many({
        "flow" + text + " --fusion median --out " + quote((tmp / "bad.npy").string()),
        "flow" + text + " --threads -1 --out " + quote((tmp / "threads.npy").string()),
        "flow" + text + " --discard 1.5 --out " + quote((tmp / "discard.npy").string()),
        "flow" + text + " --out " + quote((tmp / "flow.jpg").string()),
    });
    check_error(r[0], "--fusion 'median'");
    check_no_output(tmp / "bad.npy");
    check_error(r[1], "--threads");
    check_no_output(tmp / "threads.npy");
    check_error(r[2], "--discard");
    check_no_output(tmp / "discard.npy");
    check_error(r[3], ".jpg");
    check_no_output(tmp / "flow.jpg");
}
