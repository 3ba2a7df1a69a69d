// What the C API's opaque handles hold (include/headmap/headmap.h). Internal to the library.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/capture/attention_maps.h"
#include "engine/capture/capture.h"
#include "engine/engine.h"
#include "headmap/headmap.h"

// Immutable once loaded: shared by every context and thread. The weights load with the first
// context (a model used only to tokenize never maps them) and every later context shares them.
struct hm_model {
    explicit hm_model(headmap::ModelFiles model_files) : files(std::move(model_files)) {}
    headmap::ModelFiles files;

    std::shared_ptr<const headmap::LoadedWeights> shared_weights() const {
        std::lock_guard lock(weights_mutex);
        if (!weights)
            weights = headmap::LoadedWeights::load(
                files.dir, headmap::EngineOptions{}.packed_weights_max_bytes);
        return weights;
    }

  private:
    mutable std::mutex weights_mutex;
    mutable std::shared_ptr<const headmap::LoadedWeights> weights;
};

// One run's state: the engine (arena, ring, thread pool) and the last failure's message.
struct hm_context {
    const hm_model* model = nullptr;
    std::unique_ptr<headmap::Engine> engine;
    std::string last_error;
};

struct hm_maps {
    headmap::AttentionMaps maps;
    // Known for captured maps (export writes them), empty for saved ones.
    std::optional<headmap::ModelConfig> config;
    std::vector<int32_t> ids, type_ids;
    std::vector<int> heads;  // the model heads held
};

namespace headmap::api {

// hm_maps_select's rules: a model layer counted from the end of the held layers when negative,
// a held head counted from the end when negative (or HM_HEAD_MEAN / HM_HEAD_MAX).
int resolve_layer(const AttentionMaps& maps, int layer);
std::string head_spec(const AttentionMaps& maps, int head, bool allow_reductions);

}  // namespace headmap::api
