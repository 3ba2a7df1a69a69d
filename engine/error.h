// The one exception type that crosses module boundaries. The CLI catches it once,
// prints its one-line message and exits with code 2.
#pragma once

#include <stdexcept>
#include <string>

namespace headmap {

struct Error : std::runtime_error {
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace headmap
