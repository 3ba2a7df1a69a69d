// Per-head statistics as one table (head_table.h): one text or saved maps, or a corpus.
//
// Corpus mode runs one engine per thread, each single-threaded: short sentences parallelise badly
// inside one forward (a 20-token forward is a few small matrix products), so whole texts go to
// threads instead, taken from a shared counter. Each engine owns its arena and ring; the weights
// are not shared between engines (Engine owns its WeightStore), but F32 checkpoints are mmapped,
// so the second engine maps the same page-cache pages and adds only its packed Q|K|V copy (10.6 MB
// for all-MiniLM-L6-v2) and its buffers; F16/BF16 checkpoints are converted once per engine.
// Per-text results are merged in text order (a text waits in `pending` until those before it are
// in), with Welford's running mean and variance, so the table does not depend on the thread count.
#include "tools/cli/head_table.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "engine/analysis/analysis.h"
#include "engine/architecture.h"
#include "engine/engine.h"
#include "engine/analysis/words.h"
#include "headmap/error.hpp"
#include "tools/cli/model_input.h"

namespace headmap::cli {

size_t HeadTable::metric_index(const std::string& name) const {
    for (size_t m = 0; m < metrics.size(); ++m)
        if (metrics[m] == name) return m;
    std::string known;
    for (const std::string& m : metrics) {
        if (!known.empty()) known += ", ";
        known += m;
    }
    throw Error("unknown metric '" + name + "' (expected one of " + known + ")");
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

int thread_option(const Args& args) {
    const int threads = args.get_int("threads", 0, 0, 1024);
    return threads > 0 ? threads : std::max(1, int(std::thread::hardware_concurrency()));
}

// Welford's running mean and sum of squared deviations per cell, fed one text at a time in text
// order: identical values give a std of exactly 0.
struct RunningStats {
    std::vector<double> mean, m2;
    int count = 0;

    explicit RunningStats(size_t cells) : mean(cells, 0.0), m2(cells, 0.0) {}
    void add(const std::vector<double>& values) {
        ++count;
        for (size_t c = 0; c < values.size(); ++c) {
            const double delta = values[c] - mean[c];
            mean[c] += delta / count;
            m2[c] += delta * (values[c] - mean[c]);
        }
    }
};

// What every worker reads (never writes) while the corpus runs.
struct CorpusJob {
    const ModelInput* input = nullptr;
    std::vector<int> layers, heads;  // selected, ascending
    std::vector<uint8_t> emit;       // (n_layer) the selected layers
    std::vector<int> layer_index;    // (n_layer) position in `layers`, or -1
    bool causal = false;
    double threshold = 0.01;
    bool same_thread = true;  // every emitted layer fits the ring: read it after the forward
    std::optional<words::TokenFamily> words;  // --words
    size_t cells = 0;                         // rows * metrics
};

// Texts finished by the workers, merged in text order; the progress the main thread shows.
struct CorpusMerge {
    std::mutex mutex;
    std::condition_variable changed;
    std::map<size_t, std::vector<double>> pending;  // finished out of order
    size_t merged = 0;                              // texts merged, in order
    int workers_running = 0;
    std::exception_ptr error;
    std::atomic<bool> stop{false};
    RunningStats stats;

    explicit CorpusMerge(size_t cells) : stats(cells) {}
    void add(size_t text, std::vector<double> values) {
        std::lock_guard lock(mutex);
        pending.emplace(text, std::move(values));
        while (!pending.empty() && pending.begin()->first == merged) {
            stats.add(pending.begin()->second);
            pending.erase(pending.begin());
            ++merged;
        }
        changed.notify_all();
    }
};

// One text's metric values, (rows, metrics) as HeadTable::mean lays them out.
std::vector<double> text_values(Engine& engine, const CorpusJob& job, size_t text) {
    const Encoding& encoding = job.input->inputs[text];
    const size_t n_metrics = analysis::metric_names().size();
    std::vector<double> values(job.cells, 0.0);
    words::WordGroups groups;
    if (job.words) {
        std::vector<std::string> tokens;
        for (int32_t id : encoding.ids) tokens.push_back(job.input->tokenizer.token_string(id));
        groups = words::group_words(tokens, *job.words, job.input->splits[text]);
    }
    const auto consume = [&](const AttentionSlot& slot) {
        const int li = job.layer_index[size_t(slot.layer)];
        if (li < 0) return;
        std::span<const float> maps = slot.maps;
        int seq = slot.seq_len;
        std::vector<float> merged;
        if (job.words) {
            merged =
                words::merge_words(maps, slot.n_head, seq, groups.word_of_token, groups.count());
            maps = merged, seq = groups.count();
        }
        const std::vector<analysis::HeadStats> stats = analysis::all_head_stats(
            maps, slot.n_head, seq, job.causal, job.threshold, 1, /*column_sums=*/false);
        for (size_t hi = 0; hi < job.heads.size(); ++hi) {
            const std::vector<double> metrics =
                analysis::metric_values(stats[size_t(job.heads[hi])]);
            std::copy(
                metrics.begin(), metrics.end(),
                values.begin() + std::ptrdiff_t((size_t(li) * job.heads.size() + hi) * n_metrics));
        }
    };
    ForwardRequest request;
    request.ids = encoding.ids;
    request.type_ids = encoding.type_ids;
    request.emit_layers = job.emit;
    if (engine.cuda() && !job.words) {  // statistics on the GPU: no map crosses to the host
        std::vector<DeviceHeadStats> stats;
        const DeviceStatsRequest device{.threshold = job.threshold, .out = &stats};
        request.device_stats = &device;
        engine.forward(request);
        const size_t n_head = stats.size() / job.layers.size();
        for (size_t li = 0; li < job.layers.size(); ++li)
            for (size_t hi = 0; hi < job.heads.size(); ++hi) {
                const std::vector<double> metrics = analysis::metric_values(
                    analysis::to_head_stats(stats[li * n_head + size_t(job.heads[hi])]));
                std::copy(
                    metrics.begin(), metrics.end(),
                    values.begin() + std::ptrdiff_t((li * job.heads.size() + hi) * n_metrics));
            }
        return values;
    }
    if (job.same_thread) {  // the ring holds every emitted layer: no consumer thread per text
        AttentionRing& ring = engine.ring();
        ring.reset();
        engine.forward(request);
        while (auto slot = ring.next()) {
            consume(*slot);
            ring.release(*slot);
        }
    } else {
        engine.run(request, consume);
    }
    return values;
}

void corpus_worker(Engine& engine, const CorpusJob& job, std::atomic<size_t>& next_text,
                   CorpusMerge& merge) {
    try {
        const size_t texts = job.input->inputs.size();
        for (size_t t = next_text++; t < texts && !merge.stop; t = next_text++)
            merge.add(t, text_values(engine, job, t));
    } catch (...) {
        std::lock_guard lock(merge.mutex);
        if (!merge.error) merge.error = std::current_exception();
        merge.stop = true;
    }
    std::lock_guard lock(merge.mutex);
    --merge.workers_running;
    merge.changed.notify_all();
}

// "\r[#######.............]  1234/10000 texts  152.3/s" on a terminal.
void draw_progress(size_t done, size_t total, double seconds) {
    constexpr int kWidth = 30;
    const int filled = total ? int(double(kWidth) * double(done) / double(total)) : kWidth;
    std::string bar(size_t(filled), '#');
    bar.append(size_t(kWidth - filled), '.');
    std::fprintf(stderr, "\r[%s] %zu/%zu texts  %.1f/s ", bar.c_str(), done, total,
                 seconds > 0 ? double(done) / seconds : 0.0);
    std::fflush(stderr);
}

HeadTable corpus_table(const Args& args) {
    if (args.get("from") || args.get("tokens") || args.get("tensor") || args.get("split"))
        throw Error(
            "--texts runs a model over a file of texts; --from, --tokens, --tensor and "
            "--split (saved maps) do not go with it");
    const double threshold = args.get_float("threshold", 0.0f, 1.0f).value_or(0.01f);
    const int threads_wanted = thread_option(args);

    // The model and texts as read_model_input takes them (--text/--pair are passed on, so that
    // it reports their clash with --texts), with the embedded model as the default.
    const auto tokenize_start = Clock::now();
    const ModelInput input = read_model_input(model_input_request(args), args.flag("truncate"));
    const double tokenize_seconds = seconds_since(tokenize_start);

    HeadTable table;
    table.model = input.model_dir.filename().string();
    table.n_layer = input.config.n_layer;
    table.n_head = input.config.n_head;
    table.layers = parse_selection("layer", args.get("layers").value_or("all"), table.n_layer);
    table.heads = parse_selection("head", args.get("heads").value_or("all"), table.n_head);
    table.metrics = analysis::metric_names();
    table.texts = int(input.inputs.size());
    table.causal = arch_for(input.config.model_type).causal;

    CorpusJob job;
    job.input = &input;
    job.layers = table.layers;
    job.heads = table.heads;
    job.emit.assign(size_t(table.n_layer), 0);
    job.layer_index.assign(size_t(table.n_layer), -1);
    for (size_t li = 0; li < table.layers.size(); ++li) {
        job.emit[size_t(table.layers[li])] = 1;
        job.layer_index[size_t(table.layers[li])] = int(li);
    }
    job.causal = table.causal;
    job.threshold = threshold;
    job.cells = table.rows() * table.metrics.size();
    if (args.flag("words")) job.words = words::family_of_model_type(input.config.model_type);
    // Up to 64 MiB of ring per engine holds every emitted layer at the longest text; beyond
    // that the ring keeps 2 slots and a consumer thread per text drains it during the forward.
    const double ring_bytes = double(table.layers.size()) * table.n_head * double(input.longest) *
                              double(input.longest) * sizeof(float);
    job.same_thread = ring_bytes <= 64.0 * 1024 * 1024;

    EngineOptions options;
    apply_device_options(args, options);
    // One GPU engine takes every text; on the CPU, one single-threaded engine per thread.
    const int threads =
        options.device == Device::Cuda ? 1 : std::max(1, std::min(threads_wanted, table.texts));
    const auto load_start = Clock::now();
    std::vector<Engine> engines;
    options.threads = 1;
    options.max_seq = int(input.longest);
    options.ring_slots = job.same_thread ? int(table.layers.size()) : 2;
    for (int t = 0; t < threads; ++t) engines.push_back(Engine::load(input.model_dir, options));
    const double load_seconds = seconds_since(load_start);

    const auto run_start = Clock::now();
    CorpusMerge merge(job.cells);
    std::atomic<size_t> next_text{0};
    merge.workers_running = threads;
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back(corpus_worker, std::ref(engines[size_t(t)]), std::cref(job),
                             std::ref(next_text), std::ref(merge));
    const bool progress = isatty(STDERR_FILENO) == 1;
    auto drawn = Clock::now() - std::chrono::seconds(1);
    for (bool running = true; running;) {
        size_t merged = 0;
        {
            std::unique_lock lock(merge.mutex);
            merge.changed.wait_for(lock, std::chrono::milliseconds(100));
            running = merge.workers_running > 0;
            merged = merge.merged;
        }
        if (progress && (!running || seconds_since(drawn) >= 0.1)) {  // at most 10 times a second
            draw_progress(merged, input.inputs.size(), seconds_since(run_start));
            drawn = Clock::now();
        }
    }
    workers.clear();  // joins
    if (progress) std::fputs(merge.error ? "\r\033[K" : "\n", stderr);
    if (merge.error) std::rethrow_exception(merge.error);

    table.mean = std::move(merge.stats.mean);
    table.std.resize(table.mean.size());
    for (size_t c = 0; c < table.std.size(); ++c)
        table.std[c] = std::sqrt(std::max(0.0, merge.stats.m2[c] / merge.stats.count));
    HeadTable::CorpusRun run;
    run.threads = threads;
    for (const Encoding& encoding : input.inputs) run.tokens += (long long)encoding.ids.size();
    run.tokenize_seconds = tokenize_seconds;
    run.seconds = tokenize_seconds + seconds_since(run_start);
    run.load_seconds = load_seconds;
    table.corpus = run;
    return table;
}

}  // namespace

HeadTable head_table(const Args& args) {
    if (args.get("texts")) return corpus_table(args);
    const double threshold = args.get_float("threshold", 0.0f, 1.0f).value_or(0.01f);
    const Maps maps = load_maps(args, args.get("layers").value_or("all"), args.flag("truncate"));
    HeadTable table;
    table.model = maps.name;
    table.n_layer = maps.n_layer;
    table.n_head = maps.n_head;
    table.layers = maps.layers;
    table.heads = parse_selection("head", args.get("heads").value_or("all"), maps.n_head);
    table.metrics = analysis::metric_names();
    table.texts = 1;
    table.causal = maps.causal;
    table.tokens = maps.tokens;
    std::vector<std::span<const float>> selected;
    for (int l : table.layers)
        for (int h : table.heads) selected.push_back(maps.map(l, h));
    const std::vector<analysis::HeadStats> stats =
        analysis::all_head_stats(selected, maps.seq, maps.causal, threshold, thread_option(args));
    for (const analysis::HeadStats& s : stats) {
        const std::vector<double> values = analysis::metric_values(s);
        table.mean.insert(table.mean.end(), values.begin(), values.end());
        table.column_sums.push_back(s.column_sums);
    }
    table.std.assign(table.mean.size(), 0.0);
    return table;
}

}  // namespace headmap::cli
