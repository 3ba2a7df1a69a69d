// headmap bench: random weights of a named shape (--config) or a real model (--model), every
// layer's maps streamed through the ring to a consumer thread; one JSON line per sequence length
// of random ids (--seq), or one line for a file of texts (--texts, each text at its own length).
// sentences_per_s counts forwards (texts) per second, one after another. sgemm_gflops is OpenBLAS's
// own multi-threaded sgemm on (S x C)·(C x 4C) measured in the same run, so `efficiency` says how
// close the whole forward comes to the machine's best matrix multiply. On a shared machine the
// speed of the cores drifts over seconds, so every timed forward is paired with an sgemm sample
// taken right after it; efficiency is the median of the per-pair ratios, and ms / sgemm_gflops
// are the medians of their samples.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "engine/model_files.h"
#include "headmap/error.hpp"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/isa.h"
#include "tools/cli/args.h"
#include "tools/cli/bench_cuda.h"
#include "tools/cli/commands.h"
#include "tools/cli/median.h"
#include "tools/cli/model_input.h"

namespace headmap::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double sgemm_gflops(int S, int C, int N, int threads) {
    std::vector<float> a(size_t(S) * C, 0.01f), b(size_t(C) * N, 0.02f), c(size_t(S) * N);
    blas::set_num_threads(threads);
    const auto once = [&] {
        blas::sgemm(blas::Transpose::No, blas::Transpose::No, S, N, C, 1.0f, a.data(), C, b.data(),
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
    blas::set_num_threads(1);
    // OpenBLAS's idle workers spin for ~0.1 s after a call; let them sleep before the next forward.
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    return *std::max_element(rates.begin(), rates.end());
}

// The inputs one timed run covers, and its model FLOPs.
struct Batch {
    std::vector<Encoding> inputs;
    double flops = 0;
    int tokens = 0;
};

struct Timing {
    double ms, gflops, sgemm_gflops, efficiency;
    int maps;  // maps that reached the consumer in one run
};

// Runs the whole batch `runs` times after a warm-up; each run is paired with an sgemm sample.
Timing time_batch(Engine& engine, const Batch& batch, int runs) {
    int maps = 0;
    float checksum = 0;
    // The consumer reads one value per map, so every slot really reaches it.
    const auto consume = [&](const AttentionSlot& slot) {
        for (int h = 0; h < slot.n_head; ++h) checksum += slot.head(h)[0];
        maps += slot.n_head;
    };
    const ModelConfig& config = engine.config();
    const int mean_tokens = std::max(1, batch.tokens / int(batch.inputs.size()));
    std::vector<double> times, sgemm_rates, efficiencies;
    for (int run = -1; run < runs; ++run) {  // run -1 warms up
        maps = 0;
        const auto start = Clock::now();
        for (const Encoding& encoding : batch.inputs) {
            ForwardRequest request;
            request.ids = encoding.ids;
            request.type_ids = encoding.type_ids;
            engine.run(request, consume);
        }
        const double seconds = seconds_since(start);
        if (run < 0) continue;
        const double sgemm =
            sgemm_gflops(mean_tokens, config.d_model, config.d_ff, engine.threads());
        times.push_back(seconds);
        sgemm_rates.push_back(sgemm);
        efficiencies.push_back(batch.flops / seconds / 1e9 / sgemm);
    }
    if (checksum != checksum) throw Error("bench: a map held NaN");
    const double ms = median(times) * 1e3;
    return {ms, batch.flops / (ms / 1e3) / 1e9, median(sgemm_rates), median(efficiencies), maps};
}

// Where the run stands: the CPU, its vector extensions and the kernel table in use, and the memory
// a forward holds (weights + ring + activations) beside the process's peak RSS so far.
std::string machine_fields(Engine& engine) {
    double weight_bytes = 0;
    const ModelWeights& w = engine.weights();
    for (const std::span<const float> t :
         {w.token_embedding, w.position_embedding, w.token_type_embedding, w.embed_norm_weight,
          w.embed_norm_bias, w.final_norm_weight, w.final_norm_bias})
        weight_bytes += double(t.size_bytes());
    for (const LayerWeights& l : w.layers)
        for (const std::span<const float> t :
             {l.attn_norm_weight, l.attn_norm_bias, l.qkv_weight, l.qkv_bias, l.attn_out_weight,
              l.attn_out_bias, l.mlp_norm_weight, l.mlp_norm_bias, l.mlp_in_weight, l.mlp_in_bias,
              l.mlp_out_weight, l.mlp_out_bias})
            weight_bytes += double(t.size_bytes());
    weight_bytes += double(engine.loaded().packed_bytes());
    const double ring_bytes =
        double(engine.ring().slots()) * double(engine.ring().floats_per_slot()) * sizeof(float);
    // VmHWM, not getrusage: ru_maxrss survives execve, so a process started by a large parent
    // (a Python benchmark driver) would report the parent's peak.
    double peak_kib = 0;
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("VmHWM:")) peak_kib = std::atof(line.c_str() + 6);
    constexpr double kMiB = 1024.0 * 1024.0;
    char numbers[256];
    std::snprintf(numbers, sizeof numbers,
                  ", \"weights_mib\": %.1f, \"ring_mib\": %.2f, \"activations_mib\": %.2f, "
                  "\"peak_rss_mib\": %.1f",
                  weight_bytes / kMiB, ring_bytes / kMiB, double(engine.arena_bytes()) / kMiB,
                  peak_kib * 1024.0 / kMiB);
    const nlohmann::json cpu = cpu::cpu_model_name(), extensions = cpu::cpu_vector_extensions(),
                         kernels = engine.cuda() ? "cuda" : cpu::kernels().name;
    return ", \"cpu\": " + cpu.dump() + ", \"extensions\": " + extensions.dump() +
           ", \"kernels\": " + kernels.dump() + numbers;
}

}  // namespace

int cmd_bench(const Args& args) {
    if (args.get("config") && args.get("model"))
        throw Error("pass --config (random weights of a named shape) or --model, not both");
    if (args.get("texts") && !args.get("model"))
        throw Error("--texts needs --model (a real model and its tokenizer)");
    if (args.get("texts") && args.get("seq")) throw Error("pass --texts or --seq, not both");

    std::string name;
    ModelConfig config;
    std::optional<ModelInput> texts;
    std::filesystem::path model_dir;
    if (args.get("model")) {
        if (args.get("texts")) {
            texts = read_model_input(args, args.flag("truncate"));
            model_dir = texts->model_dir;
        } else {
            model_dir = resolve_model_dir(*args.get("model"));
        }
        config = load_model_config(model_dir / "config.json");
        name = *args.get("model");
    } else {
        name = args.get("config").value_or("gpt2");
        config = preset_config(name);
    }
    const bool causal = arch_for(config.model_type).causal;
    const std::string default_seqs = causal ? "64,256,1024" : "32,128,512";
    std::vector<int> seqs;
    if (!texts)
        seqs =
            parse_int_list("seq", args.get("seq").value_or(default_seqs), 1, config.max_tokens());

    EngineOptions options;
    options.threads = args.get_int("threads", 0, 0, 1024);
    options.ring_slots = args.get_int("ring", 2, 1, 1024);
    options.max_seq = texts ? int(texts->longest) : *std::max_element(seqs.begin(), seqs.end());
    apply_device_options(args, options);
    const int runs = args.get_int("runs", 5, 1, 1000);
    Engine engine = model_dir.empty() ? Engine::random(config, 1234, options)
                                      : Engine::load(model_dir, options);

    std::vector<Batch> batches;
    if (texts) {
        Batch batch;
        for (const Encoding& encoding : texts->inputs) {
            batch.flops += forward_flops(config, int(encoding.ids.size()), causal);
            batch.tokens += int(encoding.ids.size());
            batch.inputs.push_back(encoding);
        }
        batches.push_back(std::move(batch));
    } else {
        std::mt19937 rng(42);
        for (int S : seqs) {
            Batch batch;
            Encoding encoding;
            for (int i = 0; i < S; ++i) {
                encoding.ids.push_back(int32_t(rng() % uint32_t(config.vocab_size)));
                encoding.type_ids.push_back(0);
            }
            batch.flops = forward_flops(config, S, causal);
            batch.tokens = S;
            batch.inputs.push_back(std::move(encoding));
            batches.push_back(std::move(batch));
        }
    }
    if (engine.cuda()) {
        for (const Batch& batch : batches)
            print_cuda_bench(engine, batch.inputs, runs, model_dir.empty() ? "config" : "model",
                             name);
        return 0;
    }
    for (const Batch& batch : batches) {
        const Timing t = time_batch(engine, batch, runs);
        const int sentences = int(batch.inputs.size());
        const std::string what = texts ? "\"texts\": " + std::to_string(sentences) +
                                             ", \"tokens\": " + std::to_string(batch.tokens)
                                       : "\"seq\": " + std::to_string(batch.tokens);
        std::printf(
            "{\"impl\": \"headmap\", \"%s\": \"%s\", %s, \"threads\": %d, \"runs\": %d, "
            "\"ms\": %.3f, \"sentences_per_s\": %.2f, \"gflops\": %.3f, \"sgemm_gflops\": %.3f, "
            "\"efficiency\": %.4f, \"maps\": %d, \"ring\": %d%s}\n",
            model_dir.empty() ? "config" : "model", name.c_str(), what.c_str(), engine.threads(),
            runs, t.ms, sentences / (t.ms / 1e3), t.gflops, t.sgemm_gflops, t.efficiency, t.maps,
            engine.ring().slots(), machine_fields(engine).c_str());
        std::fflush(stdout);
    }
    return 0;
}

}  // namespace headmap::cli
