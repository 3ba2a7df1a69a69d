// The one table the CLI is built from: every option (name, value type, default, help, the commands
// and option groups it applies to) and every command (name, summary, handler, option groups).
// Args parses a command line against it, main() dispatches through it and `--help` is printed
// from it, so an option cannot be accepted without being documented, nor documented without being
// accepted.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace headmap::cli {

class Args;

enum class ValueType { Flag, Int, Float, Text, Choice, Selection, IntList, Path, Region };

// Traits of an option, as bits of Option::traits.
inline constexpr unsigned kRepeatable = 1;  // read with Args::get_all: may be given several times
inline constexpr unsigned kPicture = 2;     // only shapes a picture (reject_draw_options)

struct Option {
    std::string_view name;  // without the leading "--"
    ValueType type;
    // The value as help shows it ("FILE.png|svg|pdf", "table|json|csv"); empty: the type's name.
    std::string_view value;
    // The default as text: "none" when unset, "required" when it must be given; empty for flags.
    std::string_view fallback;
    std::string_view help;  // one line
    // The commands and option groups it applies to, separated by spaces. A row naming a command
    // replaces a group's row of the same name for that command (stability's --from repeats;
    // heatmap's does not).
    std::string_view scope;
    unsigned traits = 0;
};

// Options several commands take together; in a command's help, a group's options come under its
// title.
struct OptionGroup {
    std::string_view name;
    std::string_view title;
};

struct Command {
    std::string_view name;
    std::string_view section;  // the heading it is listed under in `headmap --help`
    std::string_view summary;  // one line
    int (*run)(const Args& args);
    std::string_view groups;  // OptionGroup names separated by spaces, in the order help lists them
};

const std::vector<Option>& option_table();
// "maps draw" -> {"maps", "draw"}: the names of a scope or a command's groups.
std::vector<std::string_view> names_in(std::string_view list);
bool names_include(std::string_view list, std::string_view name);
const std::vector<OptionGroup>& option_groups();
const std::vector<Command>& command_table();

// The command called `name`, or nullptr.
const Command* find_command(std::string_view name);
// The command called `name`, or headmap::Error naming the nearest command and all of them.
const Command& command_named(std::string_view name);

// The options `command` takes, its own rows first, then its groups' in group order. A name the
// table gives twice at the same level (two rows of the command, or of its groups) is a table bug:
// headmap::Error.
std::vector<const Option*> options_of(const Command& command);
// The options of one group: what an argument list built in code for that group may hold.
std::vector<const Option*> options_of_group(std::string_view group);
// Names of options (or flags), for Args and messages.
std::set<std::string> valued_names(const std::vector<const Option*>& options);
std::set<std::string> flag_names(const std::vector<const Option*>& options);
// The options of `command` that only shape its picture (kPicture).
std::set<std::string> picture_options(const Command& command);

// `headmap --help`: the commands by section with their summaries, and notes on values.
std::string usage();
// `headmap CMD --help`: its usage line, summary, and each option with its value, type, default
// and help.
std::string command_help(const Command& command);
// "(int, default: -1)", "(path, required)", "(flag)": an option's type and default in help.
std::string type_and_default(const Option& option);

// The candidate nearest to `word` by edit distance (a prefix of a candidate counts as near), or ""
// when none is near enough to be a likely typo.
std::string nearest(std::string_view word, const std::set<std::string>& candidates);

}  // namespace headmap::cli
