// Layer and head selections as people write them: "all", or a comma list of indices and ranges
// ("0,3,5-7"); negative indices count from the end. Shared by the CLI, the C API and the views.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace headmap {

// Sorted unique indices in [0, count). `what` ("layer", "head") names the kind in errors, which
// are headmap::Error with Status::OutOfRange (an index past the end) or BadArgument.
std::vector<int> parse_selection(const std::string& what, const std::string& text, int count);

// A whole decimal integer ("-3"), or nullopt.
std::optional<long long> parse_integer(std::string_view text);

// "a,b,,c" -> {"a", "b", "", "c"}: empty items are kept so the caller reports them.
std::vector<std::string> comma_items(const std::string& text);

}  // namespace headmap
