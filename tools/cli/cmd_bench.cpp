// headmap bench: random weights of a named shape, every layer's maps streamed through the ring
// to a consumer thread, one JSON line per sequence length. sgemm_gflops is OpenBLAS's own
// multi-threaded sgemm on (S x C)·(C x 4C) measured in the same run, so `efficiency` says how
// close the whole forward comes to the machine's best matrix multiply. On a shared machine the
// speed of the cores drifts over seconds, so every timed forward is paired with an sgemm sample
// taken right after it; efficiency is the median of the per-pair ratios, and ms / sgemm_gflops
// are the medians of their samples.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "engine/engine.h"
#include "tools/cli/args.h"
#include "tools/cli/commands.h"

namespace headmap::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

double sgemm_gflops(int S, int C, int N, int threads) {
    std::vector<float> a(size_t(S) * C, 0.01f), b(size_t(C) * N, 0.02f), c(size_t(S) * N);
    openblas_set_num_threads(threads);
    const auto once = [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, S, N, C, 1.0f, a.data(), C, b.data(),
                    N, 0.0f, c.data(), N);
    };
    once();
    std::vector<double> rates;
    for (int trial = 0; trial < 3; ++trial) {
        int reps = 0;
        const auto start = Clock::now();
        do {
            once();
            ++reps;
        } while (seconds_since(start) < 0.05);
        rates.push_back(2.0 * S * C * N * reps / seconds_since(start) / 1e9);
    }
    openblas_set_num_threads(1);
    // OpenBLAS's idle workers spin for ~0.1 s after a call; let them sleep before the next forward.
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    return *std::max_element(rates.begin(), rates.end());
}

}  // namespace

int cmd_bench(const std::vector<std::string>& argv) {
    const Args args("bench", argv, {"config", "seq", "threads", "runs", "ring"}, {});
    const std::string config_name = args.get("config").value_or("gpt2");
    const ModelConfig config = preset_config(config_name);
    const std::vector<int> seqs =
        parse_int_list("seq", args.get("seq").value_or("64,256,1024"), 1, config.max_positions);
    EngineOptions options;
    options.threads = args.get_int("threads", 0, 0, 1024);
    options.ring_slots = args.get_int("ring", 2, 1, 1024);
    options.max_seq = *std::max_element(seqs.begin(), seqs.end());
    const int runs = args.get_int("runs", 5, 1, 1000);
    Engine engine = Engine::random(config, 1234, options);

    std::mt19937 rng(42);
    for (int S : seqs) {
        std::vector<int32_t> ids(static_cast<size_t>(S));
        for (auto& id : ids) id = int32_t(rng() % uint32_t(config.vocab_size));
        ForwardRequest request;
        request.ids = ids;
        int maps = 0;
        float checksum = 0;
        // The consumer reads one value per map, so every slot really reaches it.
        const auto consume = [&](const AttentionSlot& slot) {
            for (int h = 0; h < slot.n_head; ++h) checksum += slot.head(h)[0];
            maps += slot.n_head;
        };
        const double flops = forward_flops(config, S, true);
        std::vector<double> times, sgemm_rates, efficiencies;
        for (int run = -1; run < runs; ++run) {  // run -1 warms up
            maps = 0;
            const auto start = Clock::now();
            engine.run(request, consume);
            const double seconds = seconds_since(start);
            if (run < 0) continue;
            const double sgemm = sgemm_gflops(S, config.d_model, config.d_ff, engine.threads());
            times.push_back(seconds);
            sgemm_rates.push_back(sgemm);
            efficiencies.push_back(flops / seconds / 1e9 / sgemm);
        }
        const double ms = median(times) * 1e3;
        const double gflops = flops / (ms / 1e3) / 1e9;
        const double sgemm = median(sgemm_rates);
        const double efficiency = median(efficiencies);
        std::printf(
            "{\"impl\": \"headmap\", \"config\": \"%s\", \"seq\": %d, \"threads\": %d, \"runs\": "
            "%d, "
            "\"ms\": %.3f, \"gflops\": %.3f, \"sgemm_gflops\": %.3f, \"efficiency\": %.4f, "
            "\"maps\": %d, \"ring\": %d}\n",
            config_name.c_str(), S, engine.threads(), runs, ms, gflops, sgemm, efficiency, maps,
            engine.ring().slots());
        std::fflush(stdout);
        if (checksum != checksum) return 1;  // keeps the consumer's reads observable
    }
    return 0;
}

}  // namespace headmap::cli
