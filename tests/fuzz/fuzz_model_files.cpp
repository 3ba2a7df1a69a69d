// Fuzz target: the model lookup (engine/model_files.cpp) over a Hugging Face cache it does not
// control. The input is three parts cut by fuzz::kSeparator: the model id or path asked for, the
// text of refs/main, and the name of the snapshot folder; they are laid out in a scratch cache
// (HF_HUB_CACHE) for models--org--model before the lookup.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/model_files.h"
#include "fuzz_support.h"

namespace {

namespace fs = std::filesystem;

const fs::path& scratch_dir() {
    static const fs::path dir =
        fs::temp_directory_path() / ("headmap-fuzz-model-files-" + std::to_string(::getpid()));
    return dir;
}

struct RemoveAtExit {
    ~RemoveAtExit() {
        std::error_code ignored;
        fs::remove_all(scratch_dir(), ignored);
    }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    static RemoveAtExit remove;
    fs::create_directories(scratch_dir() / "cache");
    fs::create_directories(scratch_dir() / "weights");
    ::setenv("HF_HUB_CACHE", (scratch_dir() / "cache").c_str(), 1);
    ::setenv("HEADMAP_WEIGHTS", (scratch_dir() / "weights").c_str(), 1);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<std::string_view> parts = fuzz::split_parts(fuzz::text_of(data, size), 3);
    const fs::path repo = scratch_dir() / "cache" / "models--org--model";
    std::error_code ec;
    fs::remove_all(repo, ec);
    fs::create_directories(repo / "refs", ec);
    fs::create_directories(repo / "snapshots" / "abc123", ec);
    std::ofstream(repo / "refs" / "main", std::ios::binary)
        .write(parts[1].data(), std::streamsize(parts[1].size()));
    // A snapshot named by the input, when it is one plain file name.
    const std::string snapshot(parts[2]);
    if (!snapshot.empty() && snapshot.find('/') == std::string::npos &&
        snapshot.find('\0') == std::string::npos && snapshot != "." && snapshot != "..")
        fs::create_directories(repo / "snapshots" / snapshot, ec);
    try {
        const fs::path found = headmap::resolve_model_dir(std::string(parts[0]));
        if (found.empty()) fuzz::broken("an empty model directory");
    } catch (const headmap::Error&) {
    }
    return 0;
}
