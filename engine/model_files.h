// Finds a model's files: a directory in the Hugging Face layout, or a model id found in the
// Hugging Face hub cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub).
#pragma once

#include <filesystem>
#include <string>

namespace headmap {

// `model` is a directory path, or an id such as "gpt2", "openai-community/gpt2", "distilgpt2".
// A bare id without an org also tries the aliases HF redirects (gpt2 -> openai-community/gpt2,
// distilgpt2 -> distilbert/distilgpt2). A bare id is first looked up under the project's
// weights/ folder ($HEADMAP_WEIGHTS); "minilm" is short for all-MiniLM-L6-v2, which
// weights/fetch puts there. Throws headmap::Error naming what was searched when nothing is found.
std::filesystem::path resolve_model_dir(const std::string& model);

// The hub cache root honoured by resolve_model_dir.
std::filesystem::path hf_hub_cache_dir();

}  // namespace headmap
