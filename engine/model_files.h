// Finds a model's files: a directory in the Hugging Face layout, or a model id found in the
// Hugging Face hub cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace headmap {

// `model` is a directory path, or an id such as "gpt2", "openai-community/gpt2", "distilgpt2".
// A bare id is first looked up in the weights folders (weights_dirs(); "minilm" is short for
// all-MiniLM-L6-v2, which weights/fetch puts there), then in the Hugging Face hub cache. A bare
// id without an org also tries the aliases HF redirects (gpt2 -> openai-community/gpt2,
// distilgpt2 -> distilbert/distilgpt2). Throws headmap::Error naming what was searched when
// nothing is found.
std::filesystem::path resolve_model_dir(const std::string& model);

// The weights folders, in lookup order, one rule for the CLI and every embedder: $HEADMAP_WEIGHTS
// alone when set; else weights/ under the current directory, then beside the running executable
// (its build tree's weights/, or an installed prefix's share/headmap/weights), then beside
// libheadmap.so (lib/../share/headmap/weights). Folders that do not exist are left out.
std::vector<std::filesystem::path> weights_dirs();

// The embedded default model, gpt2-tiny-headmap, in the first weights folder that holds it.
std::filesystem::path default_model_dir();

// The hub cache root honoured by resolve_model_dir.
std::filesystem::path hf_hub_cache_dir();

}  // namespace headmap
