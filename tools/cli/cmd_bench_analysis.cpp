// headmap bench-analysis: how long the analyses take on synthetic attention, beyond the forward
// pass. --heads random softmax maps of --seq tokens (by default 144 maps at S = 1024, GPT-2
// small's 12 layers x 12 heads at its longest input), built once per mode (causal, then not);
// each entry runs --runs times after a warm-up and prints one JSON line with the median and
// fastest time, and the median CPU time of the process per run (cpu_ms: on a busy machine, where
// the wall time also counts waiting for a core, cpu_ms / threads is what the run needed). Speed
// targets are checked here, never in unit tests.
//
// Entries are rows of kEntries: a name, whether it runs by default, and a function over the
// workload; a new analysis (flow, modularity, ...) is one more row.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

#include "engine/analysis/analysis.h"
#include "engine/analysis/flow.h"
#include "engine/analysis/modularity.h"
#include "headmap/error.hpp"
#include "kernels/cpu/fast_math.h"
#include "tools/cli/args.h"
#include "tools/cli/commands.h"
#include "tools/cli/median.h"

namespace headmap::cli {
namespace {

using Clock = std::chrono::steady_clock;

// The maps every entry analyses: (heads, seq, seq), rows summing to 1 over the allowed keys.
struct Workload {
    int seq = 0, heads = 0, threads = 1;
    bool causal = false;
    std::vector<float> maps;
};

struct BenchEntry {
    const char* name;
    bool by_default;
    bool threaded;  // uses --threads (else one thread)
    std::function<void(const Workload&)> run;
};

// One per analysis; stats_reference is the single-threaded reference path, for comparison; flow
// and modularity run on request (--entries), at a --seq they suit.
const std::vector<BenchEntry> kEntries = {
    {"stats", true, true,
     [](const Workload& w) {
         const auto stats =
             analysis::all_head_stats(w.maps, w.heads, w.seq, w.causal, 0.01, w.threads);
         if (stats.size() != size_t(w.heads)) throw Error("bench-analysis: stats lost a map");
     }},
    {"stats_reference", false, false,
     [](const Workload& w) {
         const size_t per_map = size_t(w.seq) * size_t(w.seq);
         for (int h = 0; h < w.heads; ++h)
             analysis::head_stats_reference(
                 std::span<const float>(w.maps).subspan(size_t(h) * per_map, per_map), w.seq,
                 w.causal);
     }},
    // Attention flow over the maps read as (heads / 12) layers x 12 heads (or one head per layer
    // when --heads is not a multiple of 12); S^2 max-flow problems, so run it at --seq 128.
    {"flow", false, true,
     [](const Workload& w) {
         const int per_layer = w.heads % 12 == 0 ? 12 : 1;
         const auto flow = analysis::attention_flow(w.maps, w.heads / per_layer, per_layer, w.seq,
                                                    analysis::HeadFusion::Mean, 0.0, w.threads);
         if (flow.size() != size_t(w.seq) * size_t(w.seq)) throw Error("bench-analysis: flow");
     }},
    {"modularity", false, true,
     [](const Workload& w) {
         const auto found = analysis::head_modularity(w.maps, w.heads, w.seq, w.causal, w.threads);
         if (found.size() != size_t(w.heads)) throw Error("bench-analysis: modularity lost a map");
     }},
};

uint64_t splitmix(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// Softmax rows of logits 3 * (sum of four uniforms - 2) (close to normal, std 1.7): rows from
// nearly flat to peaked, like trained heads. Masked entries are 0. Maps are made in parallel.
Workload make_workload(int seq, int heads, bool causal, int threads) {
    Workload w{seq, heads, threads, causal, {}};
    const size_t S = size_t(seq), per_map = S * S;
    w.maps.resize(size_t(heads) * per_map);
    const auto fill = [&](int first_map, int step) {
        std::vector<float> logits(S);
        for (int h = first_map; h < heads; h += step) {
            uint64_t state = 0x1234567ull + uint64_t(h);
            for (size_t i = 0; i < S; ++i) {
                float* row = w.maps.data() + size_t(h) * per_map + i * S;
                const int keys = causal ? int(i) + 1 : seq;
                for (int j = 0; j < keys; ++j) {
                    const uint64_t r = splitmix(state);
                    float sum = 0;
                    for (int u = 0; u < 4; ++u) sum += float((r >> (16 * u)) & 0xffff) / 65536.0f;
                    logits[size_t(j)] = 3.0f * (sum - 2.0f);
                }
                const float max = cpu::fast_math::max_of(logits.data(), keys);
                for (int j = 0; j < keys; ++j) logits[size_t(j)] -= max;
                cpu::fast_math::exp_inplace(logits.data(), keys);
                const float total = cpu::fast_math::sum_of(logits.data(), keys);
                for (int j = 0; j < keys; ++j) row[j] = logits[size_t(j)] / total;
                std::fill(row + keys, row + seq, 0.0f);
            }
        }
    };
    std::vector<std::jthread> helpers;
    for (int t = 1; t < threads; ++t) helpers.emplace_back(fill, t, threads);
    fill(0, threads);
    return w;
}

double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

}  // namespace

int cmd_bench_analysis(const Args& args) {
    const int seq = args.get_int("seq", 1024, 1, 8192);
    const int heads = args.get_int("heads", 144, 1, 4096);
    const int runs = args.get_int("runs", 5, 1, 1000);
    int threads = args.get_int("threads", 0, 0, 1024);
    if (threads == 0) threads = std::max(1, int(std::thread::hardware_concurrency()));
    if (double(heads) * seq * seq * 4 > 16e9)
        throw Error(
            "--heads x --seq^2 needs more than 16 GB of maps (expected a smaller workload)");

    std::vector<const BenchEntry*> chosen;
    if (const auto list = args.get("entries")) {
        std::string known;
        for (const BenchEntry& e : kEntries) {
            if (!known.empty()) known += ", ";
            known += e.name;
        }
        size_t start = 0;
        while (start <= list->size()) {
            const size_t comma = std::min(list->find(',', start), list->size());
            const std::string name = list->substr(start, comma - start);
            const auto found = std::find_if(kEntries.begin(), kEntries.end(),
                                            [&](const BenchEntry& e) { return name == e.name; });
            if (found == kEntries.end())
                throw Error("--entries: unknown entry '" + name + "' (expected " + known + ")");
            chosen.push_back(&*found);
            start = comma + 1;
        }
    } else {
        for (const BenchEntry& e : kEntries)
            if (e.by_default) chosen.push_back(&e);
    }

    for (bool causal : {true, false}) {
        const Workload workload = make_workload(seq, heads, causal, threads);
        for (const BenchEntry* entry : chosen) {
            std::vector<double> times, cpu_times;
            for (int run = -1; run < runs; ++run) {  // run -1 warms up
                const auto start = Clock::now();
                const double cpu_start = process_cpu_seconds();
                entry->run(workload);
                if (run < 0) continue;
                times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
                cpu_times.push_back(process_cpu_seconds() - cpu_start);
            }
            std::printf(
                "{\"analysis\": \"%s\", \"seq\": %d, \"heads\": %d, \"causal\": %s, "
                "\"threads\": %d, \"runs\": %d, \"ms\": %.2f, \"min_ms\": %.2f, \"cpu_ms\": "
                "%.2f}\n",
                entry->name, seq, heads, causal ? "true" : "false", entry->threaded ? threads : 1,
                runs, median(times) * 1e3, *std::min_element(times.begin(), times.end()) * 1e3,
                median(cpu_times) * 1e3);
            std::fflush(stdout);
        }
    }
    return 0;
}

}  // namespace headmap::cli
