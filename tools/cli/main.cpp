// headmap: the command-line tool. Commands, their options and the help text come from one table
// (options.h). Every error is caught here once: one line on stderr, exit 2.
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "headmap/error.hpp"
#include "tools/cli/args.h"
#include "tools/cli/options.h"

namespace {

// headmap::Error messages are one line already; std exceptions (filesystem errors quoting a path,
// say) get the same treatment here.
void print_error(const std::string& message) {
    std::fprintf(stderr, "headmap: error: %s\n", headmap::one_line(message).c_str());
}

int run(const std::vector<std::string>& argv) {
    using namespace headmap::cli;
    const std::string& first = argv.front();
    if (first == "--version") {
        std::printf("headmap %s\n", HEADMAP_VERSION);
        return 0;
    }
    if (first == "--help" || first == "-h" || first == "help") {
        // "headmap help CMD" is "headmap CMD --help".
        const bool about_command = first == "help" && argv.size() > 1;
        std::fputs((about_command ? command_help(command_named(argv[1])) : usage()).c_str(),
                   stdout);
        return 0;
    }
    const Command& command = command_named(first);
    const Args args(command, std::vector<std::string>(argv.begin() + 1, argv.end()));
    if (args.help()) {
        std::fputs(command_help(command).c_str(), stdout);
        return 0;
    }
    return command.run(args);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {  // no command: the usage, as an error
        std::fputs(headmap::cli::usage().c_str(), stderr);
        return 2;
    }
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::bad_alloc&) {
        print_error("out of memory");
    } catch (const headmap::Error& e) {
        // The library speaks of devices; the option that asked for one is --device cuda.
        print_error(e.status() == headmap::Status::NoDevice
                        ? "--device cuda: " + std::string(e.what())
                        : std::string(e.what()));
    } catch (const std::exception& e) {  // headmap::Error and the few std errors left
        print_error(e.what());
    }
    return 2;
}
