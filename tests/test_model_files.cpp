// Tests for model lookup: directories, the project weights/ folder, and a fake Hugging Face hub
// cache (refs/main, snapshots, symlinks into blobs/) built in a temporary directory.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/model_files.h"
#include "engine/safetensors.h"
#include "headmap/error.hpp"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace headmap;
using test_support::TempDir;

namespace {

// Sets (or unsets, with nullopt) an environment variable and restores the old value on exit.
struct ScopedEnv {
    std::string name;
    std::optional<std::string> saved;
    ScopedEnv(std::string variable, std::optional<std::string> value) : name(std::move(variable)) {
        if (const char* old = std::getenv(name.c_str())) saved = old;
        if (value) {
            ::setenv(name.c_str(), value->c_str(), 1);
        } else {
            ::unsetenv(name.c_str());
        }
    }
    ~ScopedEnv() {
        if (saved) {
            ::setenv(name.c_str(), saved->c_str(), 1);
        } else {
            ::unsetenv(name.c_str());
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;
};

// Isolates a test from the real environment: the cache is `cache`, the weights dir is `weights`.
struct IsolatedEnv {
    ScopedEnv hub_cache;
    ScopedEnv hf_home{"HF_HOME", std::nullopt};
    ScopedEnv weights;
    IsolatedEnv(const fs::path& cache, const fs::path& weights_dir)
        : hub_cache("HF_HUB_CACHE", cache.string()),
          weights("HEADMAP_WEIGHTS", weights_dir.string()) {}
};

void write_text(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    REQUIRE(out.good());
}

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        const std::string message = e.what();
        CHECK_MESSAGE(message.find('\n') == std::string::npos, message);
        CHECK(!message.empty());
        return message;
    }
    FAIL("expected headmap::Error, nothing was thrown");
    return {};
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

// A cached repo as huggingface_hub lays it out: blobs hold the content, the snapshot holds
// relative symlinks to them, refs/main names the snapshot (when `write_ref`).
fs::path make_cached_repo(const fs::path& cache, const std::string& folder,
                          const std::string& revision, bool write_ref = true) {
    const fs::path repo = cache / folder;
    const fs::path snapshot = repo / "snapshots" / revision;
    fs::create_directories(snapshot);
    write_text(repo / "blobs" / ("config-" + revision), R"({"model_type":"gpt2"})");
    fs::create_symlink(fs::path("..") / ".." / "blobs" / ("config-" + revision),
                       snapshot / "config.json");
    const std::vector<float> weights = {1.5f, -2.0f};
    const TensorToWrite tensors[] = {{"wte.weight", DType::F32, {2}, weights}};
    write_safetensors(repo / "blobs" / ("weights-" + revision), tensors);
    fs::create_symlink(fs::path("..") / ".." / "blobs" / ("weights-" + revision),
                       snapshot / "model.safetensors");
    if (write_ref) write_text(repo / "refs" / "main", revision);
    return snapshot;
}

}  // namespace

TEST_CASE("hf_hub_cache_dir honours HF_HUB_CACHE, then HF_HOME, then HOME") {
    TempDir dir;
    {
        ScopedEnv cache("HF_HUB_CACHE", (dir.path / "c").string());
        ScopedEnv home("HF_HOME", (dir.path / "h").string());
        CHECK(hf_hub_cache_dir() == dir.path / "c");
    }
    {
        ScopedEnv cache("HF_HUB_CACHE", std::nullopt);
        ScopedEnv home("HF_HOME", (dir.path / "h").string());
        CHECK(hf_hub_cache_dir() == dir.path / "h" / "hub");
    }
    {
        ScopedEnv cache("HF_HUB_CACHE", "");  // empty counts as unset
        ScopedEnv hf_home("HF_HOME", std::nullopt);
        ScopedEnv home("HOME", (dir.path / "me").string());
        CHECK(hf_hub_cache_dir() == dir.path / "me" / ".cache" / "huggingface" / "hub");
    }
}

TEST_CASE("an existing directory is returned as is") {
    TempDir dir;
    IsolatedEnv env(dir.path / "cache", dir.path / "weights");
    CHECK(resolve_model_dir(dir.path.string()) == dir.path);
}

TEST_CASE("model id found in the hub cache via refs/main, with symlinked files") {
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    IsolatedEnv env(cache, dir.path / "weights");
    // An older snapshot that refs/main does not name must be ignored.
    make_cached_repo(cache, "models--openai-community--gpt2", "0000old", false);
    const fs::path snapshot = make_cached_repo(cache, "models--openai-community--gpt2", "abc123");

    // Bare "gpt2" falls back to the canonical alias folder.
    const fs::path resolved = resolve_model_dir("gpt2");
    CHECK(resolved == snapshot);
    CHECK(resolve_model_dir("openai-community/gpt2") == snapshot);

    // The snapshot files are symlinks; reading and mmapping them works.
    CHECK(fs::is_symlink(resolved / "model.safetensors"));
    std::ifstream config(resolved / "config.json");
    std::string text((std::istreambuf_iterator<char>(config)), std::istreambuf_iterator<char>());
    CHECK(text == R"({"model_type":"gpt2"})");
    WeightStore store(SafetensorsArchive::open(resolved));
    const std::span<const float> wte = store.get("wte.weight", {2});
    REQUIRE(wte.size() == 2);
    CHECK(wte[0] == 1.5f);
    CHECK(wte[1] == -2.0f);

    // refs/main with a trailing newline is accepted.
    write_text(cache / "models--openai-community--gpt2" / "refs" / "main", "0000old\n");
    CHECK(resolve_model_dir("gpt2") ==
          cache / "models--openai-community--gpt2" / "snapshots" / "0000old");
}

TEST_CASE("the legacy folder is preferred, and HF_HOME/hub is searched") {
    TempDir dir;
    ScopedEnv hub_cache("HF_HUB_CACHE", std::nullopt);
    ScopedEnv hf_home("HF_HOME", (dir.path / "hfhome").string());
    ScopedEnv weights("HEADMAP_WEIGHTS", (dir.path / "weights").string());
    const fs::path cache = dir.path / "hfhome" / "hub";
    const fs::path legacy = make_cached_repo(cache, "models--distilgpt2", "111");
    const fs::path canonical = make_cached_repo(cache, "models--distilbert--distilgpt2", "222");
    CHECK(resolve_model_dir("distilgpt2") == legacy);
    CHECK(resolve_model_dir("distilbert/distilgpt2") == canonical);
    fs::remove_all(cache / "models--distilgpt2");
    CHECK(resolve_model_dir("distilgpt2") == canonical);

    const fs::path bert = make_cached_repo(cache, "models--google-bert--bert-base-uncased", "333");
    CHECK(resolve_model_dir("bert-base-uncased") == bert);
    const fs::path roberta = make_cached_repo(cache, "models--FacebookAI--roberta-base", "444");
    CHECK(resolve_model_dir("roberta-base") == roberta);
    const fs::path distilbert =
        make_cached_repo(cache, "models--distilbert--distilbert-base-uncased", "555");
    CHECK(resolve_model_dir("distilbert-base-uncased") == distilbert);
}

TEST_CASE("without refs/main: the single snapshot, else the most recently modified") {
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    IsolatedEnv env(cache, dir.path / "weights");
    const fs::path only = make_cached_repo(cache, "models--org--tiny", "aaa", false);
    CHECK(resolve_model_dir("org/tiny") == only);

    const fs::path second = make_cached_repo(cache, "models--org--tiny", "bbb", false);
    const auto now = fs::file_time_type::clock::now();
    fs::last_write_time(only, now - std::chrono::hours(2));
    fs::last_write_time(second, now - std::chrono::hours(1));
    CHECK(resolve_model_dir("org/tiny") == second);
    fs::last_write_time(only, now);
    CHECK(resolve_model_dir("org/tiny") == only);

    // refs/main naming a snapshot that is gone falls back the same way.
    write_text(cache / "models--org--tiny" / "refs" / "main", "deleted");
    CHECK(resolve_model_dir("org/tiny") == only);
}

TEST_CASE("short names resolve under the project weights directory when they hold a model") {
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    const fs::path weights = dir.path / "weights";
    IsolatedEnv env(cache, weights);
    write_text(weights / "minilm" / "config.json", "{}");
    CHECK(resolve_model_dir("minilm") == weights / "minilm");

    // A weights folder with tokenizer files only does not shadow the cached model.
    write_text(weights / "gpt2" / "vocab.json", "{}");
    const fs::path snapshot = make_cached_repo(cache, "models--gpt2", "777");
    CHECK(resolve_model_dir("gpt2") == snapshot);

    // Without HEADMAP_WEIGHTS, weights/ is taken relative to the current directory.
    ScopedEnv unset("HEADMAP_WEIGHTS", std::nullopt);
    const fs::path old_cwd = fs::current_path();
    fs::current_path(dir.path);
    const fs::path relative = resolve_model_dir("minilm");
    const bool same = fs::equivalent(relative, weights / "minilm");
    fs::current_path(old_cwd);
    CHECK(relative == fs::path("weights") / "minilm");
    CHECK(same);
}

TEST_CASE("the short name minilm finds weights/all-MiniLM-L6-v2, where weights/fetch puts it") {
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    const fs::path weights = dir.path / "weights";
    IsolatedEnv env(cache, weights);
    CHECK_THROWS_AS(resolve_model_dir("minilm"), Error);
    write_text(weights / "all-MiniLM-L6-v2" / "config.json", "{}");
    CHECK(resolve_model_dir("minilm") == weights / "all-MiniLM-L6-v2");
    CHECK(resolve_model_dir("all-MiniLM-L6-v2") == weights / "all-MiniLM-L6-v2");
}

TEST_CASE("unknown ids report what was searched") {
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    IsolatedEnv env(cache, dir.path / "weights");
    std::string message = error_of([] { resolve_model_dir("no-such-model"); });
    CHECK(contains(message, "model 'no-such-model' not found"));
    CHECK(contains(message, (cache / "models--no-such-model").string()));
    CHECK(contains(message, "Hugging Face cache"));

    message = error_of([] { resolve_model_dir("gpt2"); });
    CHECK(contains(message, "models--gpt2"));
    CHECK(contains(message, "models--openai-community--gpt2"));

    message = error_of([] { resolve_model_dir("acme/widget"); });
    CHECK(contains(message, "model 'acme/widget' not found"));
    CHECK(contains(message, "models--acme--widget"));

    // Not ids at all: odd characters, paths, newlines.
    message = error_of([] { resolve_model_dir("../headmap-no-such-dir"); });
    CHECK(contains(message, "model '../headmap-no-such-dir' not found"));
    message = error_of([] { resolve_model_dir("a/b/c"); });
    CHECK(contains(message, "'a/b/c'"));
    message = error_of([] { resolve_model_dir("bad\nname"); });
    CHECK(contains(message, "bad name"));
    message = error_of([] { resolve_model_dir(""); });
    CHECK(contains(message, "empty"));

    // A repo folder without snapshots is not a model.
    fs::create_directories(cache / "models--org--empty" / "refs");
    message = error_of([] { resolve_model_dir("org/empty"); });
    CHECK(contains(message, "models--org--empty"));
}

TEST_CASE("refs/main that is not a regular file is refused at once, never waited on") {
    TempDir dir;
    const fs::path cache = dir.path / "cache";
    IsolatedEnv env(cache, dir.path / "weights");
    make_cached_repo(cache, "models--org--fifo", "abc", false);
    const fs::path ref = cache / "models--org--fifo" / "refs" / "main";
    fs::create_directories(ref.parent_path());
    // A FIFO with no writer: reading it with a plain stream would block forever.
    REQUIRE(::mkfifo(ref.c_str(), 0600) == 0);
    const auto start = std::chrono::steady_clock::now();
    std::string message = error_of([] { resolve_model_dir("org/fifo"); });
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    CHECK(contains(message, ref.string()));
    CHECK(contains(message, "not a regular file"));

    // A directory in its place, and a file far larger than any revision hash.
    fs::remove(ref);
    fs::create_directories(ref);
    CHECK(contains(error_of([] { resolve_model_dir("org/fifo"); }), "directory"));
    fs::remove(ref);
    write_text(ref, std::string(1 << 20, 'a'));
    CHECK(contains(error_of([] { resolve_model_dir("org/fifo"); }), "over the limit"));
}
