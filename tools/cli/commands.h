// The headmap subcommands, run through the command table (options.h) with their arguments
// parsed. Each returns the process exit code; errors throw headmap::Error, which main() turns
// into one line on stderr and exit code 2.
#pragma once

namespace headmap::cli {

class Args;

int cmd_tokenize(const Args& args);
int cmd_export(const Args& args);
int cmd_bench(const Args& args);
int cmd_make_random(const Args& args);
int cmd_heatmap(const Args& args);
int cmd_grid(const Args& args);
int cmd_regions(const Args& args);
int cmd_compare(const Args& args);
int cmd_stability(const Args& args);
int cmd_evolution(const Args& args);
int cmd_bench_render(const Args& args);
int cmd_bench_analysis(const Args& args);
int cmd_stats(const Args& args);
int cmd_rollout(const Args& args);
int cmd_flow(const Args& args);
int cmd_modularity(const Args& args);
int cmd_report(const Args& args);
int cmd_heads(const Args& args);

}  // namespace headmap::cli
