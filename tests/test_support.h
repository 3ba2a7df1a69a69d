// Helpers shared by the test suites: temporary directories, file I/O, .npy reading, and running
// the headmap CLI with its exit code and output captured.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace test_support {

inline const std::filesystem::path kSourceDir = HEADMAP_SOURCE_DIR;
inline const std::filesystem::path kTestData = HEADMAP_TEST_DATA;
inline const std::filesystem::path kGpt2Tokenizer = kSourceDir / "weights" / "gpt2";

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::random_device rd;
        path = std::filesystem::temp_directory_path() /
               ("headmap-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;  // two owners would remove the directory twice
    TempDir& operator=(const TempDir&) = delete;
    std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

struct NpyArray {
    std::vector<int64_t> shape;
    std::vector<float> values;
};

// Reads a little-endian float32 C-order .npy (what headmap writes); empty shape on failure.
inline NpyArray read_npy(const std::filesystem::path& path) {
    NpyArray out;
    const std::string bytes = read_file(path);
    if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) return out;
    const size_t header_len = uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8);
    const std::string header = bytes.substr(10, header_len);
    if (header.find("'descr': '<f4'") == std::string::npos) return out;
    if (header.find("'fortran_order': False") == std::string::npos) return out;
    const size_t open = header.find("'shape': (") + 10, close = header.find(')', open);
    std::stringstream dims(header.substr(open, close - open));
    std::string item;
    while (std::getline(dims, item, ','))
        if (item.find_first_not_of(' ') != std::string::npos) out.shape.push_back(std::stoll(item));
    const size_t data = 10 + header_len;
    out.values.resize((bytes.size() - data) / 4);
    std::memcpy(out.values.data(), bytes.data() + data, out.values.size() * 4);
    return out;
}

struct CommandResult {
    int exit_code = -1;
    std::string out, err;
};

// Runs the headmap CLI with `args` (already shell-quoted where needed), and with `env`
// (e.g. "HF_HUB_CACHE=/tmp/x") set for the CLI only when given.
inline CommandResult run_cli(const std::string& args, const std::string& env = "") {
    TempDir tmp;
    const std::string command = std::string("cd '") + kSourceDir.string() + "' && env " + env +
                                " '" + HEADMAP_CLI + "' " + args + " >'" + (tmp / "out").string() +
                                "' 2>'" + (tmp / "err").string() + "'";
    const int status = std::system(command.c_str());
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(tmp / "out");
    r.err = read_file(tmp / "err");
    return r;
}

inline std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

}  // namespace test_support
