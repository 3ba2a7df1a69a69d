// Hostile files found by review and fuzzing (issue 15): each reproducer must end in exit 2 with one
// line naming the file and the problem, within 1 s and 300 MB, and write nothing. The CLI runs
// under `timeout`, so a hang fails the test instead of stalling the suite.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

#include "cli_hostile_checkpoints.h"
#include "cli_test_support.h"
#include "test_support.h"

using namespace cli_test;

namespace {

// The sanitizer build runs the same cases with room for its overhead.
#if defined(__SANITIZE_ADDRESS__)
constexpr double kMaxSeconds = 10.0;
constexpr long kMaxRssKb = 0;  // ASan's shadow and quarantine make RSS meaningless: not checked
#else
constexpr double kMaxSeconds = 1.0;
constexpr long kMaxRssKb = 300 * 1024;
#endif

struct Measured {
    CommandResult result;
    double seconds = 0;
    long max_rss_kb = 0;  // of the CLI process (and the shell that started it)
};

// run_cli with the wall time and peak memory of that one run (wait4 reports the child's own
// usage, with its waited-for children's), under a 10 s timeout.
Measured run_measured(const std::string& args, const std::string& env = "") {
    TempDir tmp;
    const std::string command = std::string("cd '") + kSourceDir.string() + "' && env " + env +
                                " timeout 10 '" + HEADMAP_CLI + "' " + args + " >'" +
                                (tmp / "out").string() + "' 2>'" + (tmp / "err").string() + "'";
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    struct rusage usage {};
    REQUIRE(::wait4(pid, &status, 0, &usage) == pid);
    Measured m;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    m.max_rss_kb = usage.ru_maxrss;
    m.result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    m.result.out = read_file(tmp / "out");
    m.result.err = read_file(tmp / "err");
    return m;
}

// check_error's contract, plus the time and memory bounds.
void check_fast_error(const Measured& m, const std::string& needle) {
    INFO("seconds: ", m.seconds, ", max RSS: ", m.max_rss_kb, " KiB");
    check_error(m.result, needle);
    CHECK(m.seconds <= kMaxSeconds);
    if (kMaxRssKb > 0) CHECK(m.max_rss_kb <= kMaxRssKb);
}

}  // namespace

TEST_CASE("a FIFO as the Hugging Face cache's refs/main fails fast instead of blocking") {
    TempDir home, tmp;
    // HF_HOME/hub is the cache when HF_HUB_CACHE is unset.
    const fs::path repo = home / "hub" / "models--test-org--tiny";
    fs::create_directories(repo / "snapshots" / "abc123");
    fs::create_directories(repo / "refs");
    REQUIRE(::mkfifo((repo / "refs" / "main").c_str(), 0600) == 0);
    fs::create_symlink(kTiny / "config.json", repo / "snapshots" / "abc123" / "config.json");
    const std::string env = "-u HF_HUB_CACHE HF_HOME=" + quote(home.path.string());
    const Measured m = run_measured("export --model test-org/tiny " + tok_opt() +
                                        " --text x --out " + quote((tmp / "m.npy").string()),
                                    env);
    check_fast_error(m, (repo / "refs" / "main").string());
    CHECK(contains(m.result.err, "not a regular file"));
    check_no_output(tmp / "m.npy");
}

TEST_CASE("a norm epsilon that a float rounds to 0 is refused, naming config.json and the key") {
    TinyCopy copy;
    edit_config(copy.model, [](json& c) { c["layer_norm_epsilon"] = 1e-50; });
    const Measured m = run_measured(fast_export_args(copy.model, kSeed, copy.out));
    check_fast_error(m, (copy.model / "config.json").string());
    CHECK(contains(m.result.err, "'layer_norm_epsilon' = 1e-50"));
    check_no_output(copy.out);
}

namespace {

// gpt2-tiny's own header with `extra` empty tensors appended to it (data unchanged): the
// reproducer of a header that lists 1.2 M tensors a model never uses, ~75 MB of JSON.
void write_with_empty_tensors(const fs::path& path, size_t extra) {
    const std::string original = read_file(kTiny / "model.safetensors");
    uint64_t length = 0;
    std::memcpy(&length, original.data(), 8);
    std::string header = original.substr(8, length);
    while (header.back() != '}') header.pop_back();  // the padding to 8 bytes
    header.pop_back();                               // and the closing '}'
    header.reserve(header.size() + extra * 64);
    char entry[96];
    for (size_t i = 0; i < extra; ++i) {
        const int n = std::snprintf(entry, sizeof entry,
                                    ",\"x%07zu.w\":{\"dtype\":\"F32\",\"shape\":[0],"
                                    "\"data_offsets\":[0,0]}",
                                    i);
        header.append(entry, size_t(n));
    }
    header += '}';
    const uint64_t new_length = header.size();
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &new_length, 8);
    write_file(path, bytes + header + original.substr(8 + length));
}

}  // namespace

TEST_CASE("a checkpoint header of 1.2 M empty tensors is refused at once, naming the file") {
    TinyCopy copy(false);
    write_with_empty_tensors(copy.weights(), 1200000);
    REQUIRE(fs::file_size(copy.weights()) > 70'000'000);
    const Measured m = run_measured(fast_export_args(copy.model, kSeed, copy.out));
    check_fast_error(m, copy.weights().string());
    CHECK(contains(m.result.err, "exceeds the limit"));
    CHECK(contains(m.result.err, "gpt2 with 2 layers binds 28 tensors"));
    check_no_output(copy.out);

    // Under the size limit, the count refuses it: gpt2-tiny may list 2 x 28 + 64 tensors.
    write_with_empty_tensors(copy.weights(), 5000);
    const Measured counted = run_measured(fast_export_args(copy.model, kSeed, copy.out));
    check_fast_error(counted, copy.weights().string());
    CHECK(contains(counted.result.err, "the header lists more than 120 tensors"));
    check_no_output(copy.out);

    // A few buffers and heads beside the weights are fine.
    write_with_empty_tensors(copy.weights(), 60);
    const CommandResult fine = run_cli(fast_export_args(copy.model, kSeed, copy.out));
    INFO(fine.err);
    CHECK(fine.exit_code == 0);
}

TEST_CASE("a sharded index of 1.2 M entries is refused at once, naming the index") {
    TinyCopy copy(false);
    const fs::path index = copy.model / "model.safetensors.index.json";
    std::string text = R"({"metadata":{"total_size":1},"weight_map":{)";
    text.reserve(1200000 * 48);
    for (size_t i = 0; i < 1200000; ++i)
        text +=
            (i ? ",\"x" : "\"x") + std::to_string(i) + R"(":"model-00001-of-00001.safetensors")";
    write_file(index, text + "}}");
    const Measured m = run_measured(fast_export_args(copy.model, kSeed, copy.out));
    check_fast_error(m, index.string());
    check_no_output(copy.out);
}

TEST_CASE("saved maps whose header lists 1.2 M tensors are refused at once") {
    TempDir tmp;
    const fs::path maps = tmp / "maps.safetensors";
    write_with_empty_tensors(maps, 1200000);
    const Measured m = run_measured("stats --from " + quote(maps.string()));
    check_fast_error(m, maps.string());
    CHECK(contains(m.result.err, "the limit for saved maps"));
}
