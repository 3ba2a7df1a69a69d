// Model lookup: a directory, a model under the project's weights/ folder, or a snapshot in the
// Hugging Face hub cache.
//
// Cache layout (huggingface_hub):
//   <cache>/models--ORG--NAME/refs/main          text file holding the revision hash
//   <cache>/models--ORG--NAME/snapshots/<rev>/   files, usually symlinks into ../../blobs/
#include "engine/model_files.h"

#include <dlfcn.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/read_file.h"
#include "headmap/error.hpp"

namespace headmap {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> environment(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
}

fs::path home_dir() {
    if (auto home = environment("HOME")) return *home;
    // No $HOME (e.g. some service environments): ask the password database.
    if (const passwd* entry = ::getpwuid(::getuid());
        entry != nullptr && entry->pw_dir != nullptr) {
        return entry->pw_dir;
    }
    return {};
}

// Hub ids are "name" or "org/name" with letters, digits and -_. only; anything else cannot be a
// cache entry, and refusing it keeps odd input from building paths outside the cache.
bool is_valid_id_part(std::string_view part) {
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

// Organisations the Hub moved legacy bare ids into; the cache uses the new folder name when the
// model was downloaded under its new id.
std::optional<std::string> canonical_org(std::string_view bare_id) {
    static const std::pair<const char*, const char*> kAliases[] = {
        {"gpt2", "openai-community"},
        {"gpt2-medium", "openai-community"},
        {"gpt2-large", "openai-community"},
        {"gpt2-xl", "openai-community"},
        {"distilgpt2", "distilbert"},
        {"bert-base-uncased", "google-bert"},
        {"bert-base-cased", "google-bert"},
        {"bert-large-uncased", "google-bert"},
        {"bert-large-cased", "google-bert"},
        {"bert-base-multilingual-cased", "google-bert"},
        {"bert-base-multilingual-uncased", "google-bert"},
        {"roberta-base", "FacebookAI"},
        {"roberta-large", "FacebookAI"},
        {"distilroberta-base", "distilbert"},
        {"distilbert-base-uncased", "distilbert"},
        {"distilbert-base-cased", "distilbert"},
        {"all-MiniLM-L6-v2", "sentence-transformers"},
    };
    for (const auto& [id, org] : kAliases) {
        if (bare_id == id) return std::string(org);
    }
    return std::nullopt;
}

// Cache folders to try for `model`, in order; empty when `model` is not a hub id.
std::vector<fs::path> repo_folders(const fs::path& cache, const std::string& model) {
    const std::size_t slash = model.find('/');
    if (slash != std::string::npos) {
        const std::string_view org = std::string_view(model).substr(0, slash);
        const std::string_view name = std::string_view(model).substr(slash + 1);
        if (!is_valid_id_part(org) || !is_valid_id_part(name)) return {};
        return {cache / ("models--" + std::string(org) + "--" + std::string(name))};
    }
    if (!is_valid_id_part(model)) return {};
    std::vector<fs::path> folders = {cache / ("models--" + model)};
    if (auto org = canonical_org(model))
        folders.push_back(cache / ("models--" + *org + "--" + model));
    return folders;
}

// The snapshot folder of one cached repo: refs/main when it names an existing snapshot, else the
// only snapshot, else the most recently modified one.
std::optional<fs::path> find_snapshot(const fs::path& repo) {
    std::error_code ec;
    const fs::path snapshots = repo / "snapshots";
    if (!fs::is_directory(snapshots, ec)) return std::nullopt;

    // refs/main is read through the I/O room (regular files only, opened without blocking): a
    // FIFO there would otherwise block the lookup forever. One that exists but cannot be read is
    // an error rather than a silent fall-back to another snapshot. A revision is a 40-character
    // hash; the size limit keeps a huge file from being read whole.
    const fs::path ref_path = repo / "refs" / "main";
    if (fs::exists(ref_path, ec)) {
        constexpr size_t kMaxRefBytes = 4096;
        std::string why;
        const std::optional<std::string> ref = read_regular_file(ref_path, why, kMaxRefBytes);
        if (!ref) throw Error(ref_path.string() + ": cannot read the revision: " + why, Status::Io);
        std::string revision = ref->substr(0, ref->find('\n'));
        while (!revision.empty() && (revision.back() == ' ' || revision.back() == '\r')) {
            revision.pop_back();
        }
        if (is_valid_id_part(revision) && fs::is_directory(snapshots / revision, ec)) {
            return snapshots / revision;
        }
    }

    std::optional<fs::path> newest;
    fs::file_time_type newest_time{};
    for (const fs::directory_entry& entry : fs::directory_iterator(snapshots, ec)) {
        if (!entry.is_directory(ec)) continue;
        const fs::file_time_type time = entry.last_write_time(ec);
        if (ec) continue;
        if (!newest || time > newest_time) {
            newest = entry.path();
            newest_time = time;
        }
    }
    return newest;
}

// A folder counts as a model when it holds a config or weights; weights/gpt2 with only the
// tokenizer files, for example, must not shadow the cached gpt2 model.
bool looks_like_model_dir(const fs::path& dir) {
    std::error_code ec;
    for (const char* file : {"config.json", "model.safetensors", "model.safetensors.index.json"}) {
        if (fs::exists(dir / file, ec)) return true;
    }
    return false;
}

// Beside a binary at `at`: its build tree's weights/ (build/bin/../../weights) and an installed
// prefix's share/headmap/weights (bin/../share or lib/../share).
void add_beside(std::vector<fs::path>& dirs, const fs::path& at) {
    std::error_code ec;
    for (const fs::path& candidate : {at.parent_path() / ".." / ".." / "weights",
                                      at.parent_path() / ".." / "share" / "headmap" / "weights"}) {
        if (!fs::is_directory(candidate, ec)) continue;
        const fs::path normal = candidate.lexically_normal();
        if (std::find(dirs.begin(), dirs.end(), normal) == dirs.end()) dirs.push_back(normal);
    }
}

}  // namespace

std::vector<fs::path> weights_dirs() {
    if (auto weights = environment("HEADMAP_WEIGHTS")) return {*weights};
    std::vector<fs::path> dirs = {"weights"};
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) add_beside(dirs, exe);
    // A program that embeds libheadmap.so finds the files installed beside the library.
    Dl_info info{};
    if (::dladdr(reinterpret_cast<const void*>(&weights_dirs), &info) != 0 && info.dli_fname)
        add_beside(dirs, fs::absolute(info.dli_fname, ec));
    return dirs;
}

fs::path default_model_dir() {
    constexpr const char* kName = "gpt2-tiny-headmap";
    std::error_code ec;
    std::string searched;
    for (const fs::path& dir : weights_dirs()) {
        if (fs::is_directory(dir / kName, ec)) return dir / kName;
        searched += (searched.empty() ? "" : ", ") + dir.string();
    }
    throw Error(std::string("the default model ") + kName + " was not found in " + searched +
                    " (name a model directory or id)",
                Status::Io);
}

fs::path hf_hub_cache_dir() {
    if (auto cache = environment("HF_HUB_CACHE")) return *cache;
    if (auto hf_home = environment("HF_HOME")) return fs::path(*hf_home) / "hub";
    return home_dir() / ".cache" / "huggingface" / "hub";
}

fs::path resolve_model_dir(const std::string& name) {
    if (name.empty()) throw Error("model name is empty; pass a model directory or a model id");
    std::error_code ec;
    if (fs::is_directory(name, ec)) return name;
    // Short names for the models weights/fetch gets.
    static const std::pair<std::string_view, std::string_view> kShortNames[] = {
        {"minilm", "all-MiniLM-L6-v2"},
    };
    std::string model = name;
    for (const auto& [short_name, id] : kShortNames)
        if (model == short_name) model = id;

    // weights/NAME as typed, then under the id a short name stands for.
    const std::vector<fs::path> weights = weights_dirs();
    for (const fs::path& folder : weights) {
        for (const std::string& local_name : {name, model}) {
            if (local_name.find('/') != std::string::npos || !is_valid_id_part(local_name))
                continue;
            const fs::path local = folder / local_name;
            if (fs::is_directory(local, ec) && looks_like_model_dir(local)) return local;
        }
    }

    const fs::path cache = hf_hub_cache_dir();
    const std::vector<fs::path> folders = repo_folders(cache, model);
    for (const fs::path& folder : folders) {
        if (auto snapshot = find_snapshot(folder)) return *snapshot;
    }

    std::string shown = model;  // keep the message on one line whatever was typed
    for (char& c : shown) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    std::string searched;
    for (const fs::path& folder : folders) {
        searched += (searched.empty() ? "" : " or ") + folder.string();
    }
    if (searched.empty()) searched = cache.string() + " (not a valid model id)";
    throw Error("model '" + shown + "' not found: not a directory, and no snapshot in " + searched +
                    "; pass a model directory or download it into the Hugging Face cache",
                Status::Io);
}

}  // namespace headmap
