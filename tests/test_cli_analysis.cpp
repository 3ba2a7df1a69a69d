// headmap stats and rollout end to end on the GPT-2 fixture: shapes, invariants, formats, errors.
#include <doctest/doctest.h>

#include "cli_test_support.h"

using namespace cli_test;

TEST_CASE("stats --format json: one entry per layer x head, masses add up, hubs per token") {
    const CommandResult r = run_cli("stats --model " + quote(kTiny.string()) + " " + tok_opt() +
                                    " --text " + quote(kSeed) + " --format json");
    INFO("stderr: ", r.err);
    REQUIRE(r.exit_code == 0);
    const json out = json::parse(r.out);
    CHECK(out["causal"] == true);
    REQUIRE(out["heads"].size() == 2 * 3);
    for (const json& head : out["heads"]) {
        const double mass = head["local"].get<double>() + head["medium"].get<double>() +
                            head["global"].get<double>();
        CHECK(mass == doctest::Approx(1.0).epsilon(1e-5));
        CHECK(head["normalized_entropy"].get<double>() >= 0.0);
        CHECK(head["normalized_entropy"].get<double>() <= 1.0 + 1e-9);
        CHECK(head["column_sums"].size() == 7);
        double received = 0;
        for (const json& c : head["column_sums"]) received += c.get<double>();
        CHECK(received == doctest::Approx(7.0).epsilon(1e-5));  // every row gives away 1
    }
}

TEST_CASE("stats table and csv; rollout to .npy has rows summing to 1; bad options exit 2") {
    TempDir tmp;
    const std::string src =
        "--model " + quote(kTiny.string()) + " " + tok_opt() + " --text " + quote(kSeed);
    const std::vector<CommandResult> r = run_many({
        "stats " + src + " --layers -1 --heads 0",
        "stats " + src + " --format csv",
        "rollout " + src + " --out " + quote((tmp / "roll.npy").string()),
        "stats " + src + " --format xml",
        "rollout " + src + " --fusion median --out " + quote((tmp / "bad.npy").string()),
    });
    CHECK(r[0].exit_code == 0);
    CHECK(std::count(r[0].out.begin(), r[0].out.end(), '\n') == 2);  // header + one head
    CHECK(r[1].exit_code == 0);
    CHECK(std::count(r[1].out.begin(), r[1].out.end(), '\n') == 1 + 6);
    CHECK(r[1].out.rfind("layer,head,entropy", 0) == 0);
    REQUIRE(r[2].exit_code == 0);
    const NpyArray rolled = read_npy(tmp / "roll.npy");
    REQUIRE(rolled.shape == std::vector<int64_t>{7, 7});
    for (int i = 0; i < 7; ++i) {
        double sum = 0;
        for (int j = 0; j < 7; ++j) sum += rolled.values[size_t(i) * 7 + j];
        CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
    }
    check_error(r[3], "--format 'xml'");
    check_error(r[4], "--fusion 'median'");
    check_no_output(tmp / "bad.npy");
}
