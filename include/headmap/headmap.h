/* headmap.h: the C API of headmap, a transformer engine that captures every layer's per-head
 * attention (softmax) maps, analyses them and draws them. C11; no Python, no framework.
 *
 * Usage (error handling shortened; every call returns an hm_status, 0 on success):
 *
 *   hm_model* model = NULL;
 *   if (hm_model_load("gpt2", NULL, &model) != HM_OK) {        // a directory or a cache id
 *       fprintf(stderr, "%s\n", hm_last_error());
 *       return 1;
 *   }
 *   hm_context* ctx = NULL;
 *   hm_context_new(model, NULL, &ctx);                         // per-run state: one per thread
 *   hm_capture_params cp = hm_capture_default_params();
 *   cp.text = "A new sentence to visualize attention weights";
 *   cp.layers = "-1";
 *   hm_maps* maps = NULL;
 *   hm_capture(ctx, &cp, &maps);                               // or stream: cp.on_layer
 *   hm_render_params rp = hm_render_default_params();
 *   hm_render_heatmap_file(maps, -1, HM_HEAD_MEAN, &rp, "heat.png");
 *   hm_export_file(maps, "attn.npz");                          // .npy .npz .safetensors .json
 *   hm_maps_free(maps);
 *   hm_context_free(ctx);
 *   hm_model_free(model);
 *
 * Link: pkg-config --cflags --libs headmap, or CMake find_package(headmap) and headmap::headmap.
 *
 * Threads and ownership:
 *   - An hm_model is immutable once loaded: any number of threads may use one model at once.
 *   - An hm_context (arena, ring, thread pool) is used by one thread at a time; make one per
 *     thread. Two contexts on one model give bit-identical maps. The model's weights load with
 *     its first context (F32 tensors mapped, F16/BF16 converted, short-input copies repacked)
 *     and every context shares them: a context adds only its arena, ring and threads.
 *   - hm_maps and hm_buffer are owned by the caller, who frees them with hm_maps_free and
 *     hm_buffer_free; they are immutable and may be read from any thread.
 *   - Every pointer the library returns into a handle (hm_maps_data, hm_maps_token, ...) lives as
 *     long as that handle.
 *   - Errors: hm_last_error() is the message of the last failed call on the calling thread;
 *     hm_context_last_error(ctx) the message of that context's last failure. Both are one line.
 *   - Every function accepts NULL for an optional params pointer (the defaults) and returns
 *     HM_ERR_BAD_ARGUMENT for a NULL handle or output pointer. No function aborts the process.
 */
#ifndef HEADMAP_H
#define HEADMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEADMAP_VERSION_MAJOR 0
#define HEADMAP_VERSION_MINOR 4
#define HEADMAP_VERSION_PATCH 0

#if defined(HEADMAP_STATIC)
#define HM_API
#elif defined(__GNUC__)
#define HM_API __attribute__((visibility("default")))
#else
#define HM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status, errors, version ---------------------------------------------------------------- */

typedef int hm_status;
enum {
    HM_OK = 0,
    HM_ERR_BAD_ARGUMENT = -1,    /* a parameter out of its domain, a NULL handle */
    HM_ERR_BAD_INPUT = -2,       /* a broken or hostile file or buffer */
    HM_ERR_UNSUPPORTED = -3,     /* a model family, dtype or format headmap does not handle */
    HM_ERR_OUT_OF_RANGE = -4,    /* a layer, head, length or size past its limit */
    HM_ERR_IO = -5,              /* a file that cannot be read or written */
    HM_ERR_NO_DEVICE = -6,       /* a CUDA device was asked for and there is none */
    HM_ERR_CANCELLED = -7,       /* a callback returned false */
    HM_ERR_OUT_OF_MEMORY = -8,   /* an allocation failed */
    HM_ERR_BUFFER_TOO_SMALL = -9 /* a caller's buffer is too short; the size is reported */
};

/* "ok", "bad argument", ...: a static string for any status. */
HM_API const char* hm_status_string(hm_status status);
/* The message of the last failed call on this thread ("" when none). Thread-local. */
HM_API const char* hm_last_error(void);
/* "0.4.0"; and the three numbers (any pointer may be NULL). */
HM_API const char* hm_version(void);
HM_API void hm_version_numbers(int* major, int* minor, int* patch);

/* ---- models --------------------------------------------------------------------------------- */

typedef struct hm_model hm_model;
typedef struct hm_context hm_context;
typedef struct hm_maps hm_maps;

typedef struct hm_model_params {
    const char* tokenizer_dir; /* the tokenizer files' directory; NULL: the model directory */
} hm_model_params;
HM_API hm_model_params hm_model_default_params(void);

/* `model`: a directory in the Hugging Face layout, a name under a weights folder ("minilm",
 * "gpt2-tiny-headmap"), a Hugging Face cache id ("gpt2", "bert-base-uncased"), or NULL for the
 * default model. Looked up as the CLI does: $HEADMAP_WEIGHTS alone when set, else ./weights,
 * beside the executable, beside libheadmap (share/headmap/weights), then the HF cache. */
HM_API hm_status hm_model_load(const char* model, const hm_model_params* params, hm_model** out);
HM_API void hm_model_free(hm_model* model); /* NULL is fine */

typedef struct hm_model_info {
    char model_type[32]; /* "gpt2", "bert", "roberta", "distilbert" */
    int n_layer, n_head, d_model, vocab_size;
    int max_tokens; /* the longest input, special tokens included */
    bool causal;    /* decoder maps: the upper triangle is masked */
} hm_model_info;
HM_API hm_status hm_model_get_info(const hm_model* model, hm_model_info* out);

/* ---- tokens --------------------------------------------------------------------------------- */

typedef struct hm_input {
    const char* text; /* UTF-8, required */
    const char* pair; /* a sentence pair's second text, or NULL */
    bool truncate;    /* cut to the model's positions (HF truncation=True, longest_first) */
} hm_input;

/* The ids the model sees (special tokens included), their token types (0, then 1 for a pair's
 * second text) and the word of each token (the rule word-level maps use). Ask the size first:
 * with capacity 0 (the arrays may be NULL) it returns HM_ERR_BUFFER_TOO_SMALL and sets
 * *n_tokens; each non-NULL array must hold *n_tokens entries. Any array may be NULL. */
HM_API hm_status hm_tokenize(const hm_model* model, const hm_input* input, int32_t* ids,
                             int32_t* type_ids, int32_t* word_ids, size_t capacity,
                             size_t* n_tokens);
/* The vocabulary's spelling of `id` ("Ġworld", "##ing"), NUL-terminated, into `buffer`; *length
 * gets its length without the NUL. Too small a buffer (NULL with capacity 0 to ask):
 * HM_ERR_BUFFER_TOO_SMALL. */
HM_API hm_status hm_token_string(const hm_model* model, int32_t id, char* buffer, size_t capacity,
                                 size_t* length);

/* ---- contexts and capture ------------------------------------------------------------------- */

enum { HM_DEVICE_CPU = 0, HM_DEVICE_CUDA = 1 };

typedef struct hm_context_params {
    int threads;    /* 0: all hardware threads */
    int ring_slots; /* buffers of maps in flight between the forward and the consumer (>= 1) */
    int max_tokens; /* the longest input this context takes; 0: the model's */
    int device;     /* HM_DEVICE_CPU or HM_DEVICE_CUDA (a CUDA build with a GPU) */
    bool fast;      /* CUDA only: TF32 projections, fp16 maps */
} hm_context_params;
HM_API hm_context_params hm_context_default_params(void);

HM_API hm_status hm_context_new(const hm_model* model, const hm_context_params* params,
                                hm_context** out);
HM_API void hm_context_free(hm_context* ctx); /* NULL is fine */
/* The message of this context's last failure ("" when none). */
HM_API const char* hm_context_last_error(const hm_context* ctx);

/* Called once per selected layer as its maps leave the ring, in layer order, on a helper thread
 * of the context while hm_capture waits: `maps` is (n_heads, n_q, n_k) row-major, rows
 * attending, valid during the call only. Return false to cancel (hm_capture then returns
 * HM_ERR_CANCELLED). */
typedef bool (*hm_layer_fn)(void* user_data, int layer, int n_heads, int n_q, int n_k,
                            const float* maps);

typedef struct hm_capture_params {
    const char* text;   /* UTF-8, required */
    const char* pair;   /* a sentence pair's second text, or NULL */
    const char* layers; /* "all", "-1", "0,3,5-7" (negatives from the end); NULL: "all" */
    const char* heads;  /* the same for heads; NULL: "all" */
    bool truncate;      /* cut to the model's positions; else too long a text is an error */
    bool words;         /* merge sub-word tokens into words (receives the sum, gives the mean) */
    hm_layer_fn on_layer;
    void* user_data;
} hm_capture_params;
HM_API hm_capture_params hm_capture_default_params(void);

/* Runs the model. With `out`, every selected layer and head is collected into an hm_maps;
 * `out` may be NULL when on_layer takes the maps as they stream (nothing is collected then). */
HM_API hm_status hm_capture(hm_context* ctx, const hm_capture_params* params, hm_maps** out);

/* ---- maps ----------------------------------------------------------------------------------- */

enum { HM_HEAD_MEAN = -1000, HM_HEAD_MAX = -1001 };

typedef struct hm_maps_info {
    int n_layers;  /* layers held */
    int n_heads;   /* heads held per layer */
    int seq;       /* tokens (or words) per side */
    int n_layer;   /* layers of the model (or file) they came from */
    int split;     /* a sentence pair's first-segment length, else -1 */
    bool causal;   /* the upper triangle is masked */
    bool by_words; /* word-level maps */
} hm_maps_info;
HM_API hm_status hm_maps_get_info(const hm_maps* maps, hm_maps_info* out);
/* (n_layers, n_heads, seq, seq) float32, row-major. */
HM_API const float* hm_maps_data(const hm_maps* maps);
/* The model layer index of held layer i (0 <= i < n_layers), or -1 when out of range. */
HM_API int hm_maps_layer(const hm_maps* maps, int i);
/* The label of token (or word) i, or NULL when out of range. */
HM_API const char* hm_maps_token(const hm_maps* maps, int i);
/* One (seq, seq) map into `out` (seq * seq floats): model layer `layer` (negative from the end of
 * the held layers) and head `head` (negative from the end), or HM_HEAD_MEAN / HM_HEAD_MAX across
 * the held heads. */
HM_API hm_status hm_maps_select(const hm_maps* maps, int layer, int head, float* out,
                                size_t capacity);
/* New maps merged into words by the token strings (WordPiece "##" or byte-level "Ġ" spelling). */
HM_API hm_status hm_maps_merge_words(const hm_maps* maps, hm_maps** out);
HM_API void hm_maps_free(hm_maps* maps); /* NULL is fine */

/* ---- analysis ------------------------------------------------------------------------------- */

typedef struct hm_head_stats {
    double entropy, normalized_entropy, sparsity, max;
    double first, previous, self, distance;
    double local, medium, global, top5_mass;
} hm_head_stats;
/* One head's statistics (the CLI's stats): model layer `layer` and head `head` as in
 * hm_maps_select (no mean/max); entries below `threshold` count as sparse (0.01 if <= 0). */
HM_API hm_status hm_head_stats_compute(const hm_maps* maps, int layer, int head, double threshold,
                                       hm_head_stats* out);

enum { HM_FUSION_MEAN = 0, HM_FUSION_MAX = 1, HM_FUSION_MIN = 2 };
typedef struct hm_rollout_params {
    int fusion;           /* HM_FUSION_MEAN, _MAX or _MIN across heads */
    double discard_ratio; /* the share of lowest fused entries zeroed, 0 <= r < 1 */
} hm_rollout_params;
HM_API hm_rollout_params hm_rollout_default_params(void);
/* Attention rollout over every layer from 0 (the maps must hold layers 0..L-1 and all heads):
 * (seq, seq) floats into `out`, rows summing to 1. */
HM_API hm_status hm_rollout(const hm_maps* maps, const hm_rollout_params* params, float* out,
                            size_t capacity);

/* ---- reading and writing maps --------------------------------------------------------------- */

typedef struct hm_buffer {
    void* data;
    size_t size;
} hm_buffer;
HM_API void hm_buffer_free(hm_buffer* buffer); /* frees data, zeroes the struct; NULL is fine */

enum {
    HM_FORMAT_AUTO = 0, /* from the file's extension */
    HM_FORMAT_NPY = 1,
    HM_FORMAT_NPZ = 2,
    HM_FORMAT_SAFETENSORS = 3,
    HM_FORMAT_JSON = 4,
    HM_FORMAT_PNG = 5,
    HM_FORMAT_SVG = 6,
    HM_FORMAT_PDF = 7
};

/* Maps and tokens as `headmap export` writes them: .npy holds the maps alone; .npz and
 * .safetensors add ids where known, tokens, layers, heads; .json holds it all as text. */
HM_API hm_status hm_export_memory(const hm_maps* maps, int format, hm_buffer* out);
/* Written atomically (a temporary file, then rename): a failure leaves nothing behind. */
HM_API hm_status hm_export_file(const hm_maps* maps, const char* path);

typedef struct hm_read_params {
    int format;                /* HM_FORMAT_NPY or HM_FORMAT_SAFETENSORS (AUTO: by path) */
    const char* tensor;        /* .safetensors: the tensor; NULL: the only one or "attentions" */
    const char* layers;        /* the layers to keep; NULL: "all" */
    const char* const* tokens; /* n_tokens labels, one per row; NULL: "0".."S-1" */
    int n_tokens;
    int split; /* a sentence pair's first-segment length, or -1 */
} hm_read_params;
HM_API hm_read_params hm_read_default_params(void);
/* Saved maps shaped (layers, heads, S, S), (heads, S, S) or (S, S); every value is checked
 * finite and >= 0. Memory reads need params->format. */
HM_API hm_status hm_maps_read_memory(const void* data, size_t size, const hm_read_params* params,
                                     hm_maps** out);
HM_API hm_status hm_maps_read_file(const char* path, const hm_read_params* params, hm_maps** out);

/* ---- pictures ------------------------------------------------------------------------------- */

/* Receives the picture's bytes, possibly in several calls; returns false to stop (the render
 * then returns HM_ERR_CANCELLED). */
typedef bool (*hm_write_fn)(void* user_data, const void* data, size_t size);

typedef struct hm_render_params {
    int format;            /* HM_FORMAT_PNG, _SVG or _PDF (AUTO: by path, else PNG) */
    const char* colormap;  /* viridis, magma, Blues, Purples, Greys, RdBu (+ "_r"); NULL: viridis */
    float gamma;           /* power norm exponent, > 0 */
    float scale;           /* PNG pixels per unit */
    int top;               /* highlight the top-n cells (heatmap); 0: none */
    const char* title;     /* NULL: a title naming the layer and head */
    bool colorbar;         /* heatmap only */
    const void* font_data; /* a TrueType font's bytes (checked: a broken font is
                              HM_ERR_BAD_INPUT); NULL: the builtin font */
    size_t font_size;
} hm_render_params;
HM_API hm_render_params hm_render_default_params(void);

/* A plain (rows, cols) matrix with labels, drawn as a heatmap (the drawing room's entry point:
 * any matrix, not only captured maps). Labels may be NULL (then "0".."n-1"). */
typedef struct hm_matrix {
    const float* values; /* rows * cols, row-major */
    int rows, cols;
    const char* const* row_labels;
    const char* const* col_labels;
    bool causal_mask; /* draw the upper triangle as masked */
    int split;        /* >= 1: question-context panels for a pair, else -1 */
} hm_matrix;
HM_API hm_status hm_render_matrix(const hm_matrix* matrix, const hm_render_params* params,
                                  hm_write_fn write, void* user_data);

/* Maps stacked (n_layers, n_heads, seq, seq), drawn as the layer x head grid of thumbnails with
 * one colour scale. layer_ids and head_ids (may be NULL: 0..n-1) label the rows and columns. */
typedef struct hm_map_stack {
    const float* values;
    int n_layers, n_heads, seq;
    const int* layer_ids;
    const int* head_ids;
    bool causal_mask;
} hm_map_stack;
HM_API hm_status hm_render_stack(const hm_map_stack* stack, const hm_render_params* params,
                                 hm_write_fn write, void* user_data);

/* IzzyViz's views over several maps of one shape (e.g. hm_maps_select of two heads, of one head
 * in several runs or checkpoints), drawn with the params' colormap, gamma, title and font. */
enum hm_view {
    HM_VIEW_COMPARE = 1,    /* 2 maps: the first as background, circles coloured by the second,
                               sized by |b - a| */
    HM_VIEW_DIFFERENCE = 2, /* 2 maps: b - a on a diverging scale centred on 0 */
    HM_VIEW_STABILITY = 3,  /* 2+ runs: mean background, circles sized by the standard error */
    HM_VIEW_EVOLUTION = 4,  /* 2+ steps: mean background, a sparkline per cell */
    HM_VIEW_REGIONS = 5     /* 1 map: the key regions found (seeds grown and merged), boxed */
};
typedef struct hm_views_input {
    int view;                 /* an hm_view */
    const float* const* maps; /* n_maps pointers, each rows * cols floats, row-major */
    int n_maps;
    int rows, cols;                /* 1..8192 each */
    const char* const* row_labels; /* NULL: "0".."rows-1" */
    const char* const* col_labels;
    const char* first_name; /* compare: the legend's names of the two maps; NULL: "A", "B" */
    const char* second_name;
    float circle_scale; /* compare: circle radius factor (1) */
    bool signed_colors; /* compare: two fixed colours for b > a and b < a */
    bool use_std;       /* stability: the std instead of the standard error */
    bool from_white;    /* stability: gradients start from white */
    bool per_cell;      /* evolution: sparklines normalised per cell */
    int n_seeds;        /* regions: seeds (5), at least min_distance (2) cells apart */
    int min_distance;
    float expansion_threshold; /* regions: grow while the mean stays above this share (0.9) */
    int proximity_threshold;   /* regions: merge regions this close (2) ... */
    float merge_threshold;     /* ... whose means are within this ratio (0.6) */
    bool causal_mask; /* every view: the upper triangle masked (hatched, left out of scales,
                         circles and sparklines), as hm_matrix's causal_mask */
    bool keep_sinks;  /* regions: search the raw map, sink columns ([CLS], [SEP], the first
                         token) included, as IzzyViz does; false: they are left out */
} hm_views_input;
HM_API hm_views_input hm_views_default_input(void);
HM_API hm_status hm_render_views(const hm_views_input* input, const hm_render_params* params,
                                 hm_write_fn write, void* user_data);

/* The heatmap of one map (layer and head as in hm_maps_select), or the layer x head grid of every
 * held map; to a callback, to memory or to a file (atomically). */
HM_API hm_status hm_render_heatmap(const hm_maps* maps, int layer, int head,
                                   const hm_render_params* params, hm_write_fn write,
                                   void* user_data);
HM_API hm_status hm_render_heatmap_memory(const hm_maps* maps, int layer, int head,
                                          const hm_render_params* params, hm_buffer* out);
HM_API hm_status hm_render_heatmap_file(const hm_maps* maps, int layer, int head,
                                        const hm_render_params* params, const char* path);
HM_API hm_status hm_render_grid_memory(const hm_maps* maps, const hm_render_params* params,
                                       hm_buffer* out);
HM_API hm_status hm_render_grid_file(const hm_maps* maps, const hm_render_params* params,
                                     const char* path);

#ifdef __cplusplus
}
#endif

#endif /* HEADMAP_H */
