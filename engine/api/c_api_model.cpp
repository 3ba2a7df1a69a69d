// The C API's models, contexts, tokens and capture (include/headmap/headmap.h). Each entry point
// runs through api::call, which turns exceptions into a status and a message.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "engine/api/handles.h"
#include "engine/architecture.h"
#include "engine/capture/capture.h"
#include "engine/capture/selection.h"
#include "engine/model_files.h"
#include "engine/analysis/words.h"
#include "headmap/error.hpp"

using namespace headmap;

namespace {

std::string text_or_empty(const char* text) {
    return text ? std::string(text) : std::string();
}

// The status a context records beside this thread's message.
int context_call(hm_context* ctx, auto&& body) {
    return api::call(body, ctx ? &ctx->last_error : nullptr);
}

}  // namespace

extern "C" {

const char* hm_status_string(hm_status status) {
    switch (status) {
        case HM_OK:
            return "ok";
        case HM_ERR_BAD_ARGUMENT:
            return "bad argument";
        case HM_ERR_BAD_INPUT:
            return "bad input";
        case HM_ERR_UNSUPPORTED:
            return "unsupported";
        case HM_ERR_OUT_OF_RANGE:
            return "out of range";
        case HM_ERR_IO:
            return "i/o error";
        case HM_ERR_NO_DEVICE:
            return "no device";
        case HM_ERR_CANCELLED:
            return "cancelled";
        case HM_ERR_OUT_OF_MEMORY:
            return "out of memory";
        case HM_ERR_BUFFER_TOO_SMALL:
            return "buffer too small";
        default:
            return "unknown status";
    }
}

const char* hm_last_error(void) {
    return api::last_error_message.c_str();
}

const char* hm_version(void) {
#define HM_STR2(x) #x
#define HM_STR(x) HM_STR2(x)
    return HM_STR(HEADMAP_VERSION_MAJOR) "." HM_STR(HEADMAP_VERSION_MINOR) "." HM_STR(
        HEADMAP_VERSION_PATCH);
#undef HM_STR
#undef HM_STR2
}

void hm_version_numbers(int* major, int* minor, int* patch) {
    if (major) *major = HEADMAP_VERSION_MAJOR;
    if (minor) *minor = HEADMAP_VERSION_MINOR;
    if (patch) *patch = HEADMAP_VERSION_PATCH;
}

hm_model_params hm_model_default_params(void) {
    hm_model_params p;
    p.tokenizer_dir = nullptr;
    return p;
}

hm_status hm_model_load(const char* model, const hm_model_params* params, hm_model** out) {
    return api::call([&] {
        api::require(out, "out");
        *out = nullptr;
        const hm_model_params p = params ? *params : hm_model_default_params();
        const std::string name = model ? std::string(model) : default_model_dir().string();
        auto loaded =
            std::make_unique<hm_model>(load_model_files(name, text_or_empty(p.tokenizer_dir)));
        *out = loaded.release();
    });
}

void hm_model_free(hm_model* model) {
    delete model;
}

hm_status hm_model_get_info(const hm_model* model, hm_model_info* out) {
    return api::call([&] {
        api::require(model, "model");
        api::require(out, "out");
        const ModelConfig& c = model->files.config;
        std::memset(out, 0, sizeof *out);
        std::snprintf(out->model_type, sizeof out->model_type, "%s", c.model_type.c_str());
        out->n_layer = c.n_layer;
        out->n_head = c.n_head;
        out->d_model = c.d_model;
        out->vocab_size = c.vocab_size;
        out->max_tokens = c.max_tokens();
        out->causal = arch_for(c.model_type).causal;
    });
}

hm_status hm_tokenize(const hm_model* model, const hm_input* input, int32_t* ids, int32_t* type_ids,
                      int32_t* word_ids, size_t capacity, size_t* n_tokens) {
    return api::call([&] {
        api::require(model, "model");
        api::require(input, "input");
        api::require(input->text, "input->text");
        api::require(n_tokens, "n_tokens");
        const ModelFiles& files = model->files;
        const EncodedInput encoded =
            encode_input(files,
                         {input->text, input->pair ? std::optional<std::string_view>(input->pair)
                                                   : std::nullopt},
                         input->truncate);
        const size_t n = encoded.encoding.ids.size();
        *n_tokens = n;
        if (capacity < n)
            throw Error("the text gives " + std::to_string(n) + " tokens, the buffers hold " +
                            std::to_string(capacity),
                        Status::BufferTooSmall);
        if (ids) std::copy(encoded.encoding.ids.begin(), encoded.encoding.ids.end(), ids);
        if (type_ids)
            std::copy(encoded.encoding.type_ids.begin(), encoded.encoding.type_ids.end(), type_ids);
        if (word_ids) {
            const words::WordGroups groups = words::group_words(
                token_strings(files.tokenizer, encoded.encoding.ids),
                words::family_of_model_type(files.config.model_type), encoded.split);
            std::copy(groups.word_of_token.begin(), groups.word_of_token.end(), word_ids);
        }
    });
}

hm_status hm_token_string(const hm_model* model, int32_t id, char* buffer, size_t capacity,
                          size_t* length) {
    return api::call([&] {
        api::require(model, "model");
        api::require(length, "length");
        if (id < 0 || id >= model->files.tokenizer.vocab_size())
            throw Error("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                            std::to_string(model->files.tokenizer.vocab_size() - 1) + ")",
                        Status::OutOfRange);
        const std::string token = model->files.tokenizer.token_string(id);
        *length = token.size();
        if (buffer == nullptr || capacity < token.size() + 1)
            throw Error("token " + std::to_string(id) + " needs " +
                            std::to_string(token.size() + 1) + " bytes, the buffer holds " +
                            std::to_string(capacity),
                        Status::BufferTooSmall);
        std::memcpy(buffer, token.c_str(), token.size() + 1);
    });
}

hm_context_params hm_context_default_params(void) {
    hm_context_params p;
    p.threads = 0;
    p.ring_slots = 2;
    p.max_tokens = 0;
    p.device = HM_DEVICE_CPU;
    p.fast = false;
    return p;
}

hm_status hm_context_new(const hm_model* model, const hm_context_params* params, hm_context** out) {
    return api::call([&] {
        api::require(model, "model");
        api::require(out, "out");
        *out = nullptr;
        const hm_context_params p = params ? *params : hm_context_default_params();
        if (p.threads < 0 || p.threads > 1024)
            throw Error("context threads " + std::to_string(p.threads) + " (expected 0..1024)",
                        Status::BadArgument);
        if (p.ring_slots < 1 || p.ring_slots > 1024)
            throw Error(
                "context ring_slots " + std::to_string(p.ring_slots) + " (expected 1..1024)",
                Status::BadArgument);
        const int longest = model->files.config.max_tokens();
        if (p.max_tokens < 0 || p.max_tokens > longest)
            throw Error("context max_tokens " + std::to_string(p.max_tokens) + " (expected 0.." +
                            std::to_string(longest) + ", the model's positions)",
                        Status::OutOfRange);
        if (p.device != HM_DEVICE_CPU && p.device != HM_DEVICE_CUDA)
            throw Error("context device " + std::to_string(p.device) +
                            " (expected HM_DEVICE_CPU or HM_DEVICE_CUDA)",
                        Status::BadArgument);
        if (p.fast && p.device != HM_DEVICE_CUDA)
            throw Error("context fast applies to HM_DEVICE_CUDA only", Status::BadArgument);
        EngineOptions options;
        options.threads = p.threads;
        options.ring_slots = p.ring_slots;
        options.max_seq = p.max_tokens;
        options.device = p.device == HM_DEVICE_CUDA ? Device::Cuda : Device::Cpu;
        options.fast = p.fast;
        auto ctx = std::make_unique<hm_context>();
        ctx->model = model;
        try {
            ctx->engine =
                std::make_unique<Engine>(Engine::create(model->shared_weights(), options));
        } catch (const Error& e) {
            if (options.device == Device::Cuda) throw Error(e.what(), Status::NoDevice);
            throw;
        }
        *out = ctx.release();
    });
}

void hm_context_free(hm_context* ctx) {
    delete ctx;
}

const char* hm_context_last_error(const hm_context* ctx) {
    return ctx ? ctx->last_error.c_str() : "ctx is NULL";
}

hm_capture_params hm_capture_default_params(void) {
    hm_capture_params p;
    std::memset(&p, 0, sizeof p);
    return p;
}

hm_status hm_capture(hm_context* ctx, const hm_capture_params* params, hm_maps** out) {
    return context_call(ctx, [&] {
        api::require(ctx, "ctx");
        api::require(params, "params");
        api::require(params->text, "params->text");
        if (!out && !params->on_layer)
            throw Error("hm_capture needs out or params->on_layer (nothing would receive the maps)",
                        Status::BadArgument);
        if (out) *out = nullptr;
        const ModelFiles& files = ctx->model->files;
        const EncodedInput input =
            encode_input(files,
                         {params->text, params->pair ? std::optional<std::string_view>(params->pair)
                                                     : std::nullopt},
                         params->truncate);
        if (int(input.encoding.ids.size()) > ctx->engine->max_seq())
            throw Error("the text is " + std::to_string(input.encoding.ids.size()) +
                            " tokens, more than this context's max_tokens " +
                            std::to_string(ctx->engine->max_seq()),
                        Status::OutOfRange);
        CaptureOptions options;
        options.layers = params->layers ? params->layers : "all";
        options.heads = params->heads ? params->heads : "all";
        options.words = params->words;
        LayerSink sink;
        if (params->on_layer)
            sink = [&](int layer, int n_heads, int n_q, int n_k, std::span<const float> maps) {
                return params->on_layer(params->user_data, layer, n_heads, n_q, n_k, maps.data());
            };
        auto maps = std::make_unique<hm_maps>();
        maps->maps = capture(*ctx->engine, files, input, options, sink, out != nullptr);
        maps->config = files.config;
        maps->ids = input.encoding.ids;
        maps->type_ids = input.encoding.type_ids;
        maps->heads = parse_selection("head", options.heads, files.config.n_head);
        if (out) *out = maps.release();
    });
}

}  // extern "C"
