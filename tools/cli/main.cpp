// headmap: the command-line tool. Every error is caught here once: one line on stderr, exit 2.
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "engine/error.h"
#include "tools/cli/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: headmap COMMAND [options]\n"
    "       headmap --version\n"
    "\n"
    "commands:\n"
    "  tokenize     --model DIR|ID (--text TEXT [--pair TEXT] | --texts FILE) [--tokens]\n"
    "               [--type-ids] [--tokenizer DIR] [--truncate]\n"
    "               print the ids the model sees (special tokens included), one line per text\n"
    "  export       --model DIR|ID (--text TEXT [--pair TEXT] | --texts FILE) --out FILE.npy\n"
    "               [--layers SEL] [--heads SEL] [--tokenizer DIR] [--truncate] [--threads N]\n"
    "               [--ring K] [--words]   write attention maps as float32 (layers, heads,\n"
    "               S, S), rows attending; with --texts, --out needs {i} (one file per text)\n"
    "  bench        [--config NAME | --model DIR|ID] [--seq 32,128,512 | --texts FILE]\n"
    "               [--threads N] [--runs R] [--ring K]\n"
    "               time the forward with every map streamed; one JSON line per length\n"
    "               NAME: gpt2, gpt2-medium, bert-base, bert-large, minilm, roberta-base,\n"
    "               distilbert-base\n"
    "  make-random  --out DIR [--config NAME] [--dtype f32|f16|bf16] [--seed N]\n"
    "               [--tokenizer DIR]   write a random-weight checkpoint in the HF layout\n"
    "\n"
    "views (--out FILE.png|.svg|.pdf; maps from --model/--text/--pair, default model\n"
    "weights/gpt2-tiny-headmap, or saved maps --from FILE.npy|.safetensors [--tokens T]):\n"
    "  heatmap      [--layer -1] [--head mean|max|N] [--colormap viridis|magma|Blues|Purples|\n"
    "               Greys|RdBu] [--gamma 1.5] [--top N] [--region r0,c0,r1,c1]...\n"
    "               [--question-context] [--title T] [--font TTF] [--scale 2]\n"
    "  grid         [--layers SEL] [--heads SEL] [--thumb PX]   all layers x heads thumbnails\n"
    "               [--rank METRIC [--top N] [--sort] [--ascending]]   outline the N best heads\n"
    "               by a stats metric; --sort orders each layer's heads best first\n"
    "  regions      like heatmap; finds key regions, prints them as JSON (--out optional)\n"
    "  compare      two maps: --layer2/--head2, --text2, --model2 or --from2; [--diff] [--signed]\n"
    "  stability    --from RUN1 --from RUN2 ...   mean with standard-error circles [--std]\n"
    "  evolution    --from STEP1 ... or --model CKPT1 --model CKPT2 ... --text T\n"
    "  bench-render [--seq 512] [--grid-seq 128] [--runs 5]   renderer timings as JSON\n"
    "\n"
    "analysis (same map sources):\n"
    "  stats        [--format table|json|csv] [--threshold 0.01] [--layers SEL] [--heads SEL]\n"
    "               per-head entropy, sparsity, first/previous/self, distance, local/medium/\n"
    "               global and top-5% mass, hubs (causal entries never count)\n"
    "               --texts FILE [--threads N] [--bench]: mean and std of each head over the\n"
    "               texts, one engine per thread (no hubs: texts differ in length)\n"
    "  bench-analysis [--seq 1024] [--heads 144] [--threads N] [--runs 5] [--entries LIST]\n"
    "               time the statistics on random softmax maps, causal and not, as JSON;\n"
    "               LIST: stats (default), stats_reference, flow, modularity\n"
    "  rollout      --out FILE.npy|png|svg|pdf [--fusion mean|max|min] [--discard 0.0]\n"
    "  flow         like rollout, plus [--threads N]: attention flow, max flow from each output\n"
    "               token to each input token through the layers, rows normalised\n"
    "  modularity   [--format table|json|csv] [--layers SEL] [--heads SEL] [--threads N]\n"
    "               [--out FILE.png|svg|pdf]   Louvain communities of each head's token graph\n"
    "               and their modularity Q; --out draws modularity by layer\n"
    "  report       --out DIR [--top 4] [--image-format png|svg|pdf]   a Markdown report\n"
    "               (report.md): model, grid, top heads, rollout, modularity by layer and\n"
    "               the statistics table\n"
    "  heads        [--texts FILE] --rank METRIC [--ascending] [--top N]   heads by a metric\n"
    "               --clusters K [--features m1,m2]   Ward clusters of robust-scaled metrics,\n"
    "               medoids marked; --scatter FILE.png|svg|pdf   PCA of heads by cluster\n"
    "               [--format table|json|csv]\n"
    "\n"
    "--words (export, views, analysis): word-level maps, sub-word tokens merged into words;\n"
    "               a word receives the sum and gives the mean of its pieces' attention\n"
    "               (saved maps need --tokens)\n"
    "--texts FILE holds one text per line; a tab splits a line into a sentence pair.\n"
    "SEL is 'all' or a list like 0,3,5-7; negative numbers count from the end.\n"
    "Each option is given once, except --from and --model (stability, evolution) and --region;\n"
    "--name=VALUE passes a value that starts with --.\n"
    "--model takes a directory or a Hugging Face id found in the local cache (HF_HUB_CACHE, "
    "HF_HOME).\n";

// headmap::Error messages are one line already; std exceptions (filesystem errors quoting a path,
// say) get the same treatment here.
void print_error(const std::string& message) {
    std::fprintf(stderr, "headmap: error: %s\n", headmap::one_line(message).c_str());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
        !std::strcmp(argv[1], "help")) {
        std::fputs(kUsage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!std::strcmp(argv[1], "--version")) {
        std::printf("headmap %s\n", HEADMAP_VERSION);  // the project's version, from CMake
        return 0;
    }
    const std::string command = argv[1];
    const std::vector<std::string> args(argv + 2, argv + argc);
    try {
        if (command == "tokenize") return headmap::cli::cmd_tokenize(args);
        if (command == "export") return headmap::cli::cmd_export(args);
        if (command == "bench") return headmap::cli::cmd_bench(args);
        if (command == "make-random") return headmap::cli::cmd_make_random(args);
        if (command == "heatmap") return headmap::cli::cmd_heatmap(args);
        if (command == "grid") return headmap::cli::cmd_grid(args);
        if (command == "regions") return headmap::cli::cmd_regions(args);
        if (command == "compare") return headmap::cli::cmd_compare(args);
        if (command == "stability") return headmap::cli::cmd_stability(args);
        if (command == "evolution") return headmap::cli::cmd_evolution(args);
        if (command == "bench-render") return headmap::cli::cmd_bench_render(args);
        if (command == "bench-analysis") return headmap::cli::cmd_bench_analysis(args);
        if (command == "stats") return headmap::cli::cmd_stats(args);
        if (command == "rollout") return headmap::cli::cmd_rollout(args);
        if (command == "flow") return headmap::cli::cmd_flow(args);
        if (command == "report") return headmap::cli::cmd_report(args);
        if (command == "modularity") return headmap::cli::cmd_modularity(args);
        if (command == "heads") return headmap::cli::cmd_heads(args);
        print_error(
            "unknown command '" + command +
            "' (expected tokenize, export, bench, make-random, heatmap, grid, regions, compare, "
            "stability, evolution, bench-render, bench-analysis, stats, rollout, flow, report, "
            "modularity or heads; see "
            "headmap --help)");
        return 2;
    } catch (const std::bad_alloc&) {
        print_error("out of memory");
    } catch (const std::exception& e) {  // headmap::Error and the few std errors left
        print_error(e.what());
    }
    return 2;
}
