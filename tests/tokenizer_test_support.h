// Helpers shared by the tokenizer suites: a scratch directory for hand-written tokenizer files,
// and the message of the headmap::Error a load throws.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "headmap/error.hpp"
#include "tokenizer/tokenizer_files.h"

namespace tokenizer_test {

namespace fs = std::filesystem;

// A scratch directory removed when the test ends.
struct ScratchDir {
    fs::path path;
    explicit ScratchDir(const std::string& name)
        : path(fs::temp_directory_path() /
               ("headmap_tok_" + name + "_" + std::to_string(::getpid()))) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~ScratchDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    fs::path write(const std::string& file_name, const std::string& contents) const {
        std::ofstream(path / file_name, std::ios::binary) << contents;
        return path / file_name;
    }
};

// A file's bytes with its path, for the loaders that parse one file (TokenizerText); the
// loaders read nothing themselves. A missing file reads as empty: the loader then names it.
struct FileText {
    std::string bytes;
    fs::path path;
    explicit FileText(fs::path file) : path(std::move(file)) {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    operator headmap::TokenizerText() const { return {bytes, path}; }
};

// Runs `load` and returns the headmap::Error message it throws ("" if it does not throw).
template <typename Load>
std::string error_message(Load&& load) {
    try {
        load();
    } catch (const headmap::Error& e) {
        return e.what();
    }
    return "";
}

inline std::string bytes_from_hex(const std::string& hex) {
    std::string bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return bytes;
}

// The input bytes of a fixture case: "text" (UTF-8) or "bytes_hex" (any bytes).
inline std::string case_input(const nlohmann::json& test_case) {
    return test_case.contains("text") ? test_case["text"].get<std::string>()
                                      : bytes_from_hex(test_case["bytes_hex"].get<std::string>());
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace tokenizer_test
