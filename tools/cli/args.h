// A small command-line parser: `--name value`, `--name=value` and boolean `--flag`s, checked
// against the options a command takes in the option table (options.h).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/capture/selection.h"
#include "tools/cli/options.h"

namespace headmap::cli {

class Args {
  public:
    // The options `command` takes in the option table. `--help` or `-h` where an option may
    // stand ends the parse with help() set; unknown options throw headmap::Error, naming the
    // nearest known one.
    Args(const Command& command, const std::vector<std::string>& argv);
    // An argument list built in code (one option group passed on to a helper): `valued` options
    // take a value; `flags` do not. Unknown options throw headmap::Error.
    Args(const std::string& command, const std::vector<std::string>& argv,
         const std::set<std::string>& valued, const std::set<std::string>& flags);

    // The table's command, or nullptr for an argument list built in code.
    const Command* command() const { return spec_; }
    // `--help` or `-h` was given: the caller prints the command's help instead of running it.
    bool help() const { return help_; }

    bool flag(const std::string& name) const { return flags_.count(name) != 0; }
    std::optional<std::string> get(const std::string& name) const;    // the last occurrence
    std::vector<std::string> get_all(const std::string& name) const;  // repeated options, in order
    std::optional<float> get_float(const std::string& name, float min, float max) const;
    std::string required(const std::string& name) const;
    int get_int(const std::string& name, int fallback, int min, int max) const;

  private:
    void parse(const std::vector<std::string>& argv, const std::set<std::string>& valued,
               const std::set<std::string>& flags);

    std::string command_;
    const Command* spec_ = nullptr;
    bool help_ = false;
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
