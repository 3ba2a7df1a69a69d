// The option and command tables (options.h says what reads them). Rows are grouped by what they
// belong to; within a command's help they are listed in this order.
#include "tools/cli/options.h"

#include <map>

#include "headmap/error.hpp"
#include "tools/cli/commands.h"

namespace headmap::cli {

std::vector<std::string_view> names_in(std::string_view list) {
    std::vector<std::string_view> names;
    for (size_t start = 0; start < list.size();) {
        size_t end = list.find(' ', start);
        if (end == std::string_view::npos) end = list.size();
        if (end > start) names.push_back(list.substr(start, end - start));
        start = end + 1;
    }
    return names;
}

bool names_include(std::string_view list, std::string_view name) {
    for (std::string_view n : names_in(list))
        if (n == name) return true;
    return false;
}

const std::vector<OptionGroup>& option_groups() {
    static const std::vector<OptionGroup> groups = {
        // tokenize, export: a model and its texts
        {"model", "model and text"},
        // views and analysis: maps computed by a model or read from a file
        {"maps", "maps (a model run on --text, or saved maps --from)"},
        // stats, heads: per-head statistics
        {"corpus", "statistics (one text, saved maps, or a corpus --texts)"},
        // one layer and head (or the mean or max of the heads) of the maps
        {"one-map", "the map"},
        // heatmap and regions: how the heatmap is drawn
        {"look", "heatmap drawing"},
        // the views that write one picture to --out
        {"draw", "picture"},
    };
    return groups;
}

const std::vector<Option>& option_table() {
    using enum ValueType;
    static const std::vector<Option> options = {
        // --- a model and its texts (tokenize, export; bench and the maps group in part) ---
        {"model", Path, "DIR|ID", "weights/gpt2-tiny-headmap",
         "a model directory, a name under weights/, or a Hugging Face id in the local cache",
         "model"},
        {"model", Path, "DIR|ID", "weights/gpt2-tiny-headmap",
         "the model to run (a directory, a name under weights/, or a cached Hugging Face id)",
         "maps"},
        {"tokenizer", Path, "DIR", "the model directory",
         "read the tokenizer files from another directory", "model maps bench"},
        {"text", Text, "", "none", "the text to run (or --texts)", "model"},
        {"text", Text, "", "none", "the text to run (needed unless --from)", "maps"},
        {"pair", Text, "", "none", "the second text of a sentence pair", "model maps"},
        {"max-text-bytes", Int, "", "1073741824",
         "the longest text (or --texts file) accepted, in bytes (1 GiB)", "model maps"},
        {"texts", Path, "FILE", "none",
         "one text per line, a tab splitting a line into a sentence pair", "model"},
        {"device", Choice, "cpu|cuda", "cpu", "where the forward runs (cuda: CUDA builds, GPU 0)",
         "model maps bench"},

        // --- tokenize ---
        {"tokens", Flag, "", "", "print the token strings instead of the ids", "tokenize"},
        {"type-ids", Flag, "", "", "add a line of token type ids after each text", "tokenize"},

        // --- export ---
        {"out", Path, "FILE.npy|npz|safetensors|json", "required",
         "where the maps go (float32, layers x heads x S x S); with --texts a path with {i}",
         "export"},
        {"layers", Selection, "", "all", "the layers to use", "export grid modularity corpus"},
        {"heads", Selection, "", "all", "the heads to use", "export grid modularity corpus"},
        {"threads", Int, "", "0", "threads to use (0: one per hardware thread)",
         "export bench flow modularity report bench-analysis corpus"},
        {"ring", Int, "", "2", "attention-map slots between the forward and the consumer (1..1024)",
         "export bench"},

        // --- maps from a model or from saved files (views and analysis) ---
        {"from", Path, "FILE.npy|safetensors", "none",
         "saved maps instead of a model: (layers, heads, S, S), (heads, S, S) or (S, S)", "maps"},
        {"tokens", Text, "T", "none",
         "labels of saved maps: \"a b c\", or a file with one token per line", "maps"},
        {"tensor", Text, "NAME", "the only one, else attentions",
         "the tensor of a --from .safetensors file", "maps"},
        {"split", Int, "", "none", "saved maps of a sentence pair: tokens of the first segment",
         "maps"},
        {"truncate", Flag, "", "", "cut texts longer than the model's positions to fit",
         "model maps bench"},
        {"words", Flag, "", "",
         "word-level maps: sub-word tokens merged into words (saved maps need --tokens)",
         "export maps"},
        {"fast", Flag, "", "", "with --device cuda: TF32 projections and fp16 maps",
         "export maps bench"},

        // --- one map (heatmap, regions, compare, stability, evolution) ---
        {"layer", Int, "", "-1", "the layer; negative counts from the end", "one-map"},
        {"head", Choice, "mean|max|N", "mean",
         "a head (negative counts from the end), or the mean or max across heads", "one-map"},

        // --- how heatmap and regions draw the map ---
        {"top", Int, "", "0", "show the N largest cells: rows and columns enlarged, values", "look",
         kPicture},
        {"region", Region, "", "none",
         "outline cells r0..r1 x c0..c1 (inclusive); give it once per rectangle", "look",
         kRepeatable | kPicture},
        {"vmin", Float, "", "the map's minimum", "the value at the bottom of the colour scale",
         "look", kPicture},
        {"vmax", Float, "", "the map's maximum", "the value at the top of the colour scale", "look",
         kPicture},
        {"clip", Float, "P", "99.5",
         "past --length-threshold tokens (grid: 64) and without --vmax, the colour scale tops out "
         "at this percentile of the cells, said on the bar (100: the maximum)",
         "look grid bench-render", kPicture},
        {"length-threshold", Int, "", "64",
         "more tokens than N: sparse labels and no values in the cells", "look", kPicture},
        {"label-interval", Int, "", "0",
         "past --length-threshold, label every Nth token (0: as many as fit legibly, special "
         "tokens and --top rows always)",
         "look", kPicture},
        {"x-label", Text, "", "Attended tokens (keys)",
         "the x axis title (words in place of tokens with --words)", "look", kPicture},
        {"y-label", Text, "", "Attending tokens (queries)",
         "the y axis title (words in place of tokens with --words)", "look", kPicture},
        {"question-context", Flag, "", "",
         "a sentence pair as five panels: A->A, B->B, A->B, B->A and the whole map", "look",
         kPicture},
        {"no-colorbar", Flag, "", "", "draw no colour bar", "look", kPicture},

        // --- the picture ---
        {"out", Path, "FILE.png|svg|pdf", "required",
         "the picture to write; the format follows the extension", "draw"},
        {"font", Path, "TTF", "DejaVu Sans", "the font (without a readable one, a builtin font)",
         "draw modularity report heads bench-render", kPicture},
        {"scale", Float, "", "1", "PNG pixels per unit (0.1..16); SVG and PDF are vector",
         "draw modularity report heads", kPicture},
        {"colormap", Choice, "NAME", "viridis",
         "viridis, magma, Blues, Purples, Greys or RdBu (diverging)", "draw report", kPicture},
        {"gamma", Float, "", "1.5", "power-norm exponent of the colour scale (0.05..20)",
         "draw report", kPicture},
        {"title", Text, "", "generated", "the picture's title", "draw modularity heads", kPicture},

        // --- regions ---
        {"out", Path, "FILE.png|svg|pdf", "none",
         "also draw the map with its regions (the JSON is printed either way)", "regions"},
        {"seeds", Int, "", "5", "regions to find (seed cells, 1..1000)", "regions"},
        {"keep-sinks", Flag, "", "",
         "search the raw map: sink columns ([CLS], [SEP], the first token; >= max(0.2, 4/S) of "
         "the rows' attention on average) are otherwise left out, as IzzyViz does not",
         "regions"},
        {"min-distance", Int, "", "2", "rows and columns between two seeds at least", "regions"},
        {"expansion", Float, "", "0.9",
         "a region grows while its score stays above this share of its peak (0..10)", "regions"},
        {"proximity", Int, "", "2", "regions within N cells are merge candidates", "regions"},
        {"merge", Float, "", "0.6",
         "merge when the merged std <= the regions' std / this (0.01..10)", "regions"},

        // --- grid ---
        {"thumb", Float, "PX", "automatic", "thumbnail size in pixels (1..1000)", "grid"},
        {"rank", Text, "METRIC", "none",
         "rank heads by a stats metric (with --top, --sort or both)", "grid"},
        {"top", Int, "", "none", "outline the N best heads of the grid (with --rank)", "grid"},
        {"threshold", Float, "", "0.01", "sparsity counts the entries below this (0..1)",
         "grid report corpus"},
        {"sort", Flag, "", "", "order each layer's heads best first (with --rank)", "grid"},
        {"ascending", Flag, "", "", "the lowest value ranks first (with --rank)", "grid heads"},

        // --- compare, stability, evolution ---
        {"layer2", Int, "", "as --layer", "the second map's layer", "compare"},
        {"head2", Choice, "mean|max|N", "as --head", "the second map's head", "compare"},
        {"text2", Text, "", "as --text", "the second map's text (same token count)", "compare"},
        {"model2", Path, "DIR|ID", "as --model", "the second map's model", "compare"},
        {"from2", Path, "FILE.npy|safetensors", "none", "the second map from saved maps",
         "compare"},
        {"circle-scale", Float, "", "1", "circle size factor (0.01..100)", "compare"},
        {"diff", Flag, "", "", "draw the signed difference second - first as a heatmap", "compare"},
        {"signed", Flag, "", "", "colour the circles by the sign of the difference", "compare"},
        {"from", Path, "FILE.npy|safetensors", "required",
         "one run's saved maps; repeat it for each run (two or more)", "stability", kRepeatable},
        {"std", Flag, "", "", "circles show the std instead of the standard error", "stability"},
        {"from-white", Flag, "", "", "circle gradients start from white", "stability"},
        {"from", Path, "FILE.npy|safetensors", "none",
         "one checkpoint's saved maps; repeat it for each step (or --model)", "evolution",
         kRepeatable},
        {"model", Path, "DIR|ID", "none",
         "one checkpoint to run on --text; repeat it for each step (or --from)", "evolution",
         kRepeatable},
        {"per-cell", Flag, "", "", "normalise each cell's sparkline on its own", "evolution"},

        // --- rollout, flow ---
        {"out", Path, "FILE.npy|png|svg|pdf", "required",
         "the (S, S) result as .npy, or drawn as a heatmap", "rollout flow"},
        {"fusion", Choice, "mean|max|min", "mean", "how each layer's heads are fused",
         "rollout flow"},
        {"discard", Float, "", "0", "zero the weakest share of each layer's entries (0..0.99)",
         "rollout flow"},

        // --- stats, modularity, heads ---
        {"format", Choice, "table|json|csv", "table", "the output format",
         "stats modularity heads"},
        {"texts", Path, "FILE", "none",
         "mean and std of each head over the texts of FILE, one per line (a tab makes a pair)",
         "corpus"},
        {"bench", Flag, "", "", "print one JSON line of corpus throughput (with --texts)", "stats"},
        {"out", Path, "FILE.png|svg|pdf", "none", "also draw modularity by layer", "modularity"},
        {"rank", Text, "METRIC", "none", "list the heads by a stats metric, best first", "heads"},
        {"top", Int, "", "all", "list the N best heads only (with --rank)", "heads"},
        {"clusters", Int, "", "none", "K Ward clusters of the robust-scaled metrics", "heads"},
        {"features", Text, "m1,m2,...", "every metric", "the metrics to cluster and scatter",
         "heads"},
        {"scatter", Path, "FILE.png|svg|pdf", "none",
         "draw the heads' PCA scatter (coloured by cluster with --clusters)", "heads"},

        // --- report ---
        {"out", Path, "DIR", "required", "the report directory (report.md and its images)",
         "report"},
        {"top", Int, "", "4",
         "the N heads of lowest normalised entropy, drawn besides the first-token, previous-token "
         "and self heads (0..64)",
         "report"},
        {"image-format", Choice, "png|svg|pdf", "png", "the format of the report's images",
         "report"},

        // --- bench ---
        {"config", Choice, "NAME", "gpt2",
         "random weights of a shape: gpt2, gpt2-medium, bert-base, bert-large, minilm, "
         "roberta-base, distilbert-base",
         "bench"},
        {"model", Path, "DIR|ID", "none", "time a real model instead of --config", "bench"},
        {"texts", Path, "FILE", "none", "time these texts, one per line (with --model)", "bench"},
        {"seq", IntList, "", "64,256,1024 (encoders: 32,128,512)",
         "the lengths to time, random ids each", "bench"},
        {"runs", Int, "", "5", "timed runs after a warm-up; the median is reported",
         "bench bench-render bench-analysis"},

        // --- make-random ---
        {"config", Choice, "NAME", "gpt2",
         "the shape: gpt2, gpt2-medium, bert-base, bert-large, minilm, roberta-base, "
         "distilbert-base",
         "make-random"},
        {"out", Path, "DIR", "required", "the checkpoint directory to write", "make-random"},
        {"tokenizer", Path, "DIR", "weights/gpt2 or weights/bert-base-uncased",
         "copy these tokenizer files into the checkpoint", "make-random"},
        {"seed", Int, "", "1234", "the random seed (0..2^30)", "make-random"},
        {"dtype", Choice, "f32|f16|bf16", "f32", "the weights' storage type", "make-random"},

        // --- bench-render, bench-analysis ---
        {"seq", Int, "", "512", "the heatmap's tokens (1..4096)", "bench-render"},
        {"grid-seq", Int, "", "128", "the grid's map size (1..1024)", "bench-render"},
        {"layers", Int, "", "12", "the grid's layers (1..64)", "bench-render"},
        {"heads", Int, "", "12", "the grid's heads (1..64)", "bench-render"},
        {"seq", Int, "", "1024", "the map size (1..8192)", "bench-analysis"},
        {"heads", Int, "", "144", "maps per run (1..4096)", "bench-analysis"},
        {"entries", Text, "LIST", "stats",
         "what to time, comma-separated: stats, stats_reference, flow, modularity",
         "bench-analysis"},
    };
    return options;
}

const std::vector<Command>& command_table() {
    constexpr std::string_view kRun = "model runs", kViews = "views (maps drawn to --out)",
                               kAnalysis = "analysis";
    static const std::vector<Command> commands = {
        {"tokenize", kRun,
         "print the ids the model sees (special tokens included), one line per text", cmd_tokenize,
         "model"},
        {"export", kRun, "write attention maps (layers, heads, S, S), rows attending", cmd_export,
         "model"},
        {"bench", kRun, "time the forward with every map streamed; one JSON line per length",
         cmd_bench, ""},
        {"make-random", kRun, "write a random-weight checkpoint in the Hugging Face layout",
         cmd_make_random, ""},
        {"heatmap", kViews, "one map: a head, or the mean or max of a layer's heads", cmd_heatmap,
         "one-map look draw maps"},
        {"grid", kViews, "thumbnails of every layer x head, optionally ranked by a metric",
         cmd_grid, "draw maps"},
        {"regions", kViews, "key regions of one map, printed as JSON (and drawn with --out)",
         cmd_regions, "one-map look draw maps"},
        {"compare", kViews, "two maps as circles on a background, or their difference", cmd_compare,
         "one-map draw maps"},
        {"stability", kViews, "n runs' maps: the mean with standard-error circles", cmd_stability,
         "one-map draw maps"},
        {"evolution", kViews, "maps over checkpoints, a sparkline per cell", cmd_evolution,
         "one-map draw maps"},
        {"bench-render", kViews, "renderer timings on random maps, as JSON lines", cmd_bench_render,
         ""},
        {"stats", kAnalysis,
         "per-head entropy, sparsity, positional and distance mass, hubs; or over a corpus",
         cmd_stats, "corpus maps"},
        {"bench-analysis", kAnalysis, "statistics timings on random softmax maps, as JSON",
         cmd_bench_analysis, ""},
        {"rollout", kAnalysis, "attention rollout through the layers, as .npy or a heatmap",
         cmd_rollout, "draw maps"},
        {"flow", kAnalysis, "attention flow: max flow from each output to each input token",
         cmd_flow, "draw maps"},
        {"modularity", kAnalysis, "Louvain communities of each head's token graph and their Q",
         cmd_modularity, "maps"},
        {"report", kAnalysis, "a Markdown report: grid, top heads, rollout, modularity, stats",
         cmd_report, "maps"},
        {"heads", kAnalysis, "heads ranked by a metric, Ward clusters, a PCA scatter", cmd_heads,
         "corpus maps"},
    };
    return commands;
}

const Command* find_command(std::string_view name) {
    for (const Command& command : command_table())
        if (command.name == name) return &command;
    return nullptr;
}

const Command& command_named(std::string_view name) {
    if (const Command* command = find_command(name)) return *command;
    std::set<std::string> names;
    std::string list;
    const std::vector<Command>& commands = command_table();
    for (size_t i = 0; i < commands.size(); ++i) {
        names.insert(std::string(commands[i].name));
        if (i) list += i + 1 == commands.size() ? " or " : ", ";
        list += commands[i].name;
    }
    const std::string guess = nearest(name, names);
    throw Error("unknown command '" + std::string(name) + "' (" +
                (guess.empty() ? "" : "did you mean " + guess + "? ") + "expected " + list +
                "; see headmap --help)");
}

std::vector<const Option*> options_of(const Command& command) {
    // name -> (row, named by the command itself?)
    std::map<std::string_view, std::pair<const Option*, bool>> chosen;
    std::vector<std::string_view> order;
    const auto take = [&](const Option& option, bool direct) {
        auto [it, fresh] = chosen.try_emplace(option.name, &option, direct);
        if (fresh) {
            order.push_back(option.name);
        } else if (it->second.second == direct) {
            throw Error("option table: --" + std::string(option.name) + " twice for '" +
                        std::string(command.name) + "'");
        } else if (direct) {
            it->second = {&option, true};
        }
    };
    for (const Option& option : option_table())
        if (names_include(option.scope, command.name)) take(option, true);
    for (std::string_view group : names_in(command.groups))
        for (const Option& option : option_table())
            if (names_include(option.scope, group)) take(option, false);
    std::vector<const Option*> result;
    for (std::string_view name : order) result.push_back(chosen.at(name).first);
    return result;
}

std::vector<const Option*> options_of_group(std::string_view group) {
    std::vector<const Option*> result;
    for (const Option& option : option_table())
        if (names_include(option.scope, group)) result.push_back(&option);
    return result;
}

std::set<std::string> valued_names(const std::vector<const Option*>& options) {
    std::set<std::string> names;
    for (const Option* option : options)
        if (option->type != ValueType::Flag) names.insert(std::string(option->name));
    return names;
}

std::set<std::string> flag_names(const std::vector<const Option*>& options) {
    std::set<std::string> names;
    for (const Option* option : options)
        if (option->type == ValueType::Flag) names.insert(std::string(option->name));
    return names;
}

std::set<std::string> picture_options(const Command& command) {
    std::set<std::string> names;
    for (const Option* option : options_of(command))
        if (option->traits & kPicture) names.insert(std::string(option->name));
    return names;
}

}  // namespace headmap::cli
