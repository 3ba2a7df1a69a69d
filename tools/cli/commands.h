// The headmap subcommands. Each returns the process exit code; errors throw headmap::Error,
// which main() turns into one line on stderr and exit code 2.
#pragma once

#include <string>
#include <vector>

namespace headmap::cli {

int cmd_tokenize(const std::vector<std::string>& argv);
int cmd_export(const std::vector<std::string>& argv);
int cmd_bench(const std::vector<std::string>& argv);
int cmd_make_random(const std::vector<std::string>& argv);
int cmd_heatmap(const std::vector<std::string>& argv);
int cmd_grid(const std::vector<std::string>& argv);
int cmd_regions(const std::vector<std::string>& argv);
int cmd_compare(const std::vector<std::string>& argv);
int cmd_stability(const std::vector<std::string>& argv);
int cmd_evolution(const std::vector<std::string>& argv);
int cmd_bench_render(const std::vector<std::string>& argv);
int cmd_bench_analysis(const std::vector<std::string>& argv);
int cmd_stats(const std::vector<std::string>& argv);
int cmd_rollout(const std::vector<std::string>& argv);
int cmd_flow(const std::vector<std::string>& argv);
int cmd_modularity(const std::vector<std::string>& argv);
int cmd_report(const std::vector<std::string>& argv);
int cmd_heads(const std::vector<std::string>& argv);

}  // namespace headmap::cli
