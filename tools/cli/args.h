// A small command-line parser: `--name value`, `--name=value` and boolean `--flag`s, checked
// against the options a command declares.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/capture/selection.h"

namespace headmap::cli {

class Args {
  public:
    // `valued` options take a value; `flags` do not. Unknown options throw headmap::Error.
    Args(const std::string& command, const std::vector<std::string>& argv,
         const std::set<std::string>& valued, const std::set<std::string>& flags);

    bool flag(const std::string& name) const { return flags_.count(name) != 0; }
    std::optional<std::string> get(const std::string& name) const;    // the last occurrence
    std::vector<std::string> get_all(const std::string& name) const;  // repeated options, in order
    std::optional<float> get_float(const std::string& name, float min, float max) const;
    std::string required(const std::string& name) const;
    int get_int(const std::string& name, int fallback, int min, int max) const;

  private:
    std::string command_;
    std::map<std::string, std::string> values_;
    std::map<std::string, std::vector<std::string>> all_values_;
    std::set<std::string> flags_;
};

// "64,256,1024" -> {64, 256, 1024}; each within [min, max].
std::vector<int> parse_int_list(const std::string& option, const std::string& text, int min,
                                int max);

// Layer or head selections ("all", "0,3,5-7", negatives from the end): the library's rule.
using headmap::parse_selection;

}  // namespace headmap::cli
