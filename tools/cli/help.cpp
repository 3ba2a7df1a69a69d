// Help text and suggestions, generated from the option and command tables (options.h).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tools/cli/options.h"

namespace headmap::cli {
namespace {

constexpr size_t kWidth = 100;         // help lines wrap here
constexpr size_t kHelpColumn = 32;     // where an option's help starts
constexpr size_t kCommandColumn = 18;  // where a command's summary starts in headmap --help

constexpr const char* kSelectionNote =
    "SEL is 'all' or a list like 0,3,5-7; negative numbers count from the end.\n";
constexpr const char* kRepeatNote =
    "Each option is given once, except those marked repeatable; --name=VALUE passes a value that\n"
    "starts with --.\n";

std::string_view type_name(ValueType type) {
    switch (type) {
        case ValueType::Flag:
            return "flag";
        case ValueType::Int:
            return "int";
        case ValueType::Float:
            return "number";
        case ValueType::Text:
            return "text";
        case ValueType::Choice:
            return "choice";
        case ValueType::Selection:
            return "selection";
        case ValueType::IntList:
            return "int list";
        case ValueType::Path:
            return "path";
        case ValueType::Region:
            return "region";
    }
    return "";
}

// How the value is written after the option name: the row's own spelling, else the type's.
std::string_view value_name(const Option& option) {
    if (!option.value.empty()) return option.value;
    switch (option.type) {
        case ValueType::Flag:
            return "";
        case ValueType::Int:
            return "N";
        case ValueType::Float:
            return "X";
        case ValueType::Text:
            return "TEXT";
        case ValueType::Selection:
            return "SEL";
        case ValueType::IntList:
            return "N,N,...";
        case ValueType::Region:
            return "R0,C0,R1,C1";
        case ValueType::Choice:
        case ValueType::Path:
            return "VALUE";
    }
    return "";
}

std::string option_usage(const Option& option) {
    std::string text = "--";
    text += option.name;
    if (option.type != ValueType::Flag) (text += ' ') += value_name(option);
    return text;
}

// `left` padded to `column`, then `text` wrapped at kWidth with continuation lines indented to
// `column`, then `tail` ("(int, default: -1)"), which is never split: it goes on the next line
// whole when it does not fit. A `left` too long for its column puts the text on the next line.
std::string aligned(const std::string& left, const std::string& text, size_t column,
                    const std::string& tail = "") {
    std::string out = left;
    // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on "\n" + std::string(...).
    if (out.size() + 2 > column)
        out.append(1, '\n').append(column, ' ');
    else
        out.append(column - out.size(), ' ');
    size_t at = column;  // where the next piece starts
    const auto put = [&](const std::string& piece) {
        if (at > column && at + 1 + piece.size() > kWidth) {
            out.append(1, '\n').append(column, ' ');
            at = column;
        } else if (at > column) {
            out += ' ';
            ++at;
        }
        out += piece;
        at += piece.size();
    };
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        put(text.substr(start, end - start));
        start = end + 1;
    }
    if (!tail.empty()) put(tail);
    return out + "\n";
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring characters ("colormp", "hedas") each cost 1.
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
        for (size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                                d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

}  // namespace

std::string type_and_default(const Option& option) {
    std::string text = "(";
    text += type_name(option.type);
    if (option.traits & kRepeatable) text += ", repeatable";
    if (option.fallback == "required")
        text += ", required";
    else if (!option.fallback.empty())
        (text += ", default: ") += option.fallback;
    return text + ")";
}

std::string usage() {
    std::string text =
        "usage: headmap COMMAND [options]\n"
        "       headmap COMMAND --help   the command's options, their types and defaults\n"
        "       headmap --version\n";
    std::string_view section;
    for (const Command& command : command_table()) {
        if (command.section != section) {
            section = command.section;
            ((text += "\n") += section) += ":\n";
        }
        text +=
            aligned("  " + std::string(command.name), std::string(command.summary), kCommandColumn);
    }
    text +=
        "\n--model takes a directory, a name under weights/ or a Hugging Face id found in the "
        "local\ncache (HF_HUB_CACHE, HF_HOME); without it the maps commands run the embedded "
        "model\nweights/gpt2-tiny-headmap.\n";
    return text + kSelectionNote + kRepeatNote;
}

std::string command_help(const Command& command) {
    const std::vector<const Option*> options = options_of(command);
    // Each option under its section: the command's own rows, then each group's.
    std::map<std::string_view, std::vector<const Option*>> by_group;
    std::vector<const Option*> own;
    for (const Option* option : options) {
        // A row naming the command is the command's own, even where a group also has it.
        std::string_view group;
        if (!names_include(option->scope, command.name))
            for (std::string_view g : names_in(command.groups))
                if (group.empty() && names_include(option->scope, g)) group = g;
        if (group.empty())
            own.push_back(option);
        else
            by_group[group].push_back(option);
    }

    // The command's own section starts with what it must be given, then what is its alone, then
    // the options it shares with other commands (--threads, --font, ...).
    std::stable_sort(own.begin(), own.end(), [](const Option* a, const Option* b) {
        const auto rank = [](const Option* o) {
            return o->fallback == "required" ? 0 : names_in(o->scope).size() == 1 ? 1 : 2;
        };
        return rank(a) < rank(b);
    });
    std::string text = "usage: headmap " + std::string(command.name);
    for (const Option* option : options)
        if (option->fallback == "required") (text += ' ') += option_usage(*option);
    text += " [options]\n" + std::string(command.summary) + "\n";
    const auto section = [&](std::string_view title, const std::vector<const Option*>& rows) {
        if (rows.empty()) return;
        ((text += "\n") += title) += ":\n";
        for (const Option* option : rows)
            text += aligned("  " + option_usage(*option), std::string(option->help), kHelpColumn,
                            type_and_default(*option));
    };
    section(std::string(command.name) + " options", own);
    for (std::string_view group : names_in(command.groups))
        for (const OptionGroup& g : option_groups())
            if (g.name == group) section(g.title, by_group[group]);
    text += "\n";
    text += aligned("  -h, --help", "this help", kHelpColumn) + "\n";
    if (std::any_of(options.begin(), options.end(),
                    [](const Option* o) { return o->type == ValueType::Selection; }))
        text += kSelectionNote;
    return text + kRepeatNote;
}

std::string nearest(std::string_view word, const std::set<std::string>& candidates) {
    // A typo of a short name is one edit; longer names allow two or three.
    const size_t allowed = word.size() <= 4 ? 1 : word.size() <= 8 ? 2 : 3;
    std::string best;
    size_t best_distance = allowed + 1;
    for (const std::string& candidate : candidates) {
        size_t d = edit_distance(word, candidate);
        // An abbreviation ("--color", "--thresh") is near whatever it begins.
        if (word.size() >= 3 && candidate.rfind(word, 0) == 0) d = std::min(d, size_t(1));
        if (d < best_distance) best = candidate, best_distance = d;
    }
    return best;
}

}  // namespace headmap::cli
