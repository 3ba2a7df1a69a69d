#include "tools/cli/args.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "engine/capture/selection.h"
#include "headmap/error.hpp"

namespace headmap::cli {
namespace {

std::string join(const std::set<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "--" : ", --") + n;
    return out;
}

}  // namespace

Args::Args(const Command& command, const std::vector<std::string>& argv)
    : command_(command.name), spec_(&command) {
    const std::vector<const Option*> options = options_of(command);
    parse(argv, valued_names(options), flag_names(options));
}

Args::Args(const std::string& command, const std::vector<std::string>& argv,
           const std::set<std::string>& valued, const std::set<std::string>& flags)
    : command_(command) {
    parse(argv, valued, flags);
}

void Args::parse(const std::vector<std::string>& argv, const std::set<std::string>& valued,
                 const std::set<std::string>& flags) {
    const std::string& command = command_;
    std::set<std::string> known = valued;
    known.insert(flags.begin(), flags.end());
    // A table command also knows --help: "--text --help" is missing its text, not the text
    // "--help".
    std::set<std::string> with_help = known;
    if (spec_) with_help.insert("help");
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        if (spec_ && (arg == "--help" || arg == "-h")) {
            help_ = true;
            return;
        }
        if (arg.rfind("--", 0) != 0)
            throw Error("unexpected argument '" + arg + "' for '" + command +
                        "' (expected options: " + join(known) + ")");
        std::string name = arg.substr(2), value;
        bool has_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            has_value = true;
        }
        if (flags.count(name) || (spec_ && name == "help")) {  // "--help" itself ended the parse
            if (has_value) throw Error("option --" + name + " takes no value");
            flags_.insert(name);
        } else if (valued.count(name)) {
            if (!has_value) {
                if (i + 1 >= argv.size()) throw Error("option --" + name + " needs a value");
                // "--layer --head 0": the value is missing, not "--head". (A value that starts
                // with "--" but names no option stays a value; --name=VALUE takes any.)
                const std::string& next = argv[i + 1];
                if (next.rfind("--", 0) == 0 && with_help.count(next.substr(2, next.find('=') - 2)))
                    throw Error("option --" + name + " needs a value (found the option " + next +
                                "; write --" + name + "=VALUE for a value that starts with --)");
                value = argv[++i];
            }
            values_[name] = value;
            all_values_[name].push_back(value);
        } else {
            const std::string guess = spec_ ? nearest(name, with_help) : "";
            throw Error("unknown option '--" + name + "' for '" + command + "' (" +
                        (guess.empty() ? "" : "did you mean --" + guess + "? ") +
                        "expected one of: " + join(known) + ")");
        }
    }
}

std::optional<std::string> Args::get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    // An option read as one value but given twice: which one was meant is unknown (the last one
    // used to win in silence). Options that repeat are read with get_all.
    if (const size_t times = all_values_.at(name).size(); times > 1)
        throw Error("option --" + name + " given " + std::to_string(times) +
                    " times (expected once)");
    return it->second;
}

std::vector<std::string> Args::get_all(const std::string& name) const {
    auto it = all_values_.find(name);
    return it == all_values_.end() ? std::vector<std::string>{} : it->second;
}

std::optional<float> Args::get_float(const std::string& name, float min, float max) const {
    auto value = get(name);
    if (!value) return std::nullopt;
    // Parsed as double: "1e-300" is a number (float's from_chars calls it out of range), and the
    // bounds print as written ("0.05..20", not "0.050000..20.000000").
    double parsed = 0;
    const char* end = value->data() + value->size();
    auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
    if (ec != std::errc() || ptr != end || value->empty() || !(parsed >= min && parsed <= max)) {
        char range[64];
        std::snprintf(range, sizeof range, "%g..%g", double(min), double(max));
        throw Error("--" + name + " '" + *value + "' is not a number in " + range);
    }
    return float(parsed);
}

std::string Args::required(const std::string& name) const {
    auto value = get(name);
    if (!value) throw Error("'" + command_ + "' needs --" + name);
    return *value;
}

int Args::get_int(const std::string& name, int fallback, int min, int max) const {
    auto value = get(name);
    if (!value) return fallback;
    auto parsed = parse_integer(*value);
    if (!parsed || *parsed < min || *parsed > max)
        throw Error("--" + name + " '" + *value + "' is not an integer in " + std::to_string(min) +
                    ".." + std::to_string(max));
    return int(*parsed);
}

std::vector<int> parse_int_list(const std::string& option, const std::string& text, int min,
                                int max) {
    std::vector<int> values;
    for (const std::string& item : comma_items(text)) {
        auto parsed = parse_integer(item);
        if (!parsed || *parsed < min || *parsed > max)
            throw Error("--" + option + ": '" + item + "' is not an integer in " +
                        std::to_string(min) + ".." + std::to_string(max));
        values.push_back(int(*parsed));
    }
    return values;
}

}  // namespace headmap::cli
