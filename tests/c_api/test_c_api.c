/* The C API from C (C11): every function, its success and its documented error statuses. Run
 * from the repository root (ctest does); the ASan build checks that nothing leaks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "headmap/headmap.h"

static int passed = 0, failed = 0;

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (cond) {                                                                           \
            ++passed;                                                                         \
        } else {                                                                              \
            ++failed;                                                                         \
            fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: %s)\n", __FILE__, __LINE__, \
                    #cond, hm_last_error());                                                  \
        }                                                                                     \
    } while (0)

/* A failed call: the documented status, and a one-line message. */
#define CHECK_STATUS(call, expected)                                                \
    do {                                                                            \
        hm_status status_ = (call);                                                 \
        CHECK(status_ == (expected));                                               \
        if (status_ != (expected))                                                  \
            fprintf(stderr, "  got %d (%s)\n", status_, hm_status_string(status_)); \
        if ((expected) != HM_OK) {                                                  \
            CHECK(strlen(hm_last_error()) > 0);                                     \
            CHECK(strchr(hm_last_error(), '\n') == NULL);                           \
        }                                                                           \
    } while (0)

static const char* kTiny = "tests/data/gpt2-tiny";
static const char* kText = "The cat sat on the mat because it was tired";

static int layers_seen = 0;
static bool count_layers(void* user, int layer, int n_heads, int n_q, int n_k, const float* maps) {
    (void)maps;
    int* sum = user;
    *sum += layer;
    ++layers_seen;
    return n_heads > 0 && n_q == n_k;
}
static bool cancel_at_second(void* user, int layer, int n_heads, int n_q, int n_k,
                             const float* maps) {
    (void)user, (void)layer, (void)n_heads, (void)n_q, (void)n_k, (void)maps;
    return ++layers_seen < 2;
}
static bool refuse_bytes(void* user, const void* data, size_t size) {
    (void)user, (void)data, (void)size;
    return false;
}
static bool count_bytes(void* user, const void* data, size_t size) {
    (void)data;
    *(size_t*)user += size;
    return true;
}

static void test_version_and_statuses(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", HEADMAP_VERSION_MAJOR, HEADMAP_VERSION_MINOR,
             HEADMAP_VERSION_PATCH);
    CHECK(strcmp(hm_version(), expected) == 0);
    int major = -1, minor = -1, patch = -1;
    hm_version_numbers(&major, &minor, &patch);
    CHECK(major == HEADMAP_VERSION_MAJOR && minor == HEADMAP_VERSION_MINOR &&
          patch == HEADMAP_VERSION_PATCH);
    hm_version_numbers(NULL, NULL, NULL);
    CHECK(strcmp(hm_status_string(HM_OK), "ok") == 0);
    for (int s = HM_ERR_BUFFER_TOO_SMALL; s < 0; ++s)
        CHECK(strcmp(hm_status_string(s), "unknown status") != 0);
    CHECK(strcmp(hm_status_string(-100), "unknown status") == 0);
}

static void test_null_handles(void) {
    hm_model* model = NULL;
    hm_context* ctx = NULL;
    hm_maps* maps = NULL;
    hm_model_info info;
    hm_maps_info minfo;
    size_t n = 0;
    float out[4];
    CHECK_STATUS(hm_model_load(kTiny, NULL, NULL), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_model_get_info(NULL, &info), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_context_new(NULL, NULL, &ctx), HM_ERR_BAD_ARGUMENT);
    CHECK(ctx == NULL);
    CHECK_STATUS(hm_capture(NULL, NULL, &maps), HM_ERR_BAD_ARGUMENT);
    CHECK(strcmp(hm_context_last_error(NULL), "") != 0);
    CHECK_STATUS(hm_tokenize(NULL, NULL, NULL, NULL, NULL, 0, &n), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_token_string(NULL, 0, NULL, 0, &n), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_maps_get_info(NULL, &minfo), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_maps_select(NULL, 0, 0, out, 4), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_maps_merge_words(NULL, &maps), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_head_stats_compute(NULL, 0, 0, 0.01, NULL), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_rollout(NULL, NULL, out, 4), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_export_memory(NULL, HM_FORMAT_NPY, NULL), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_export_file(NULL, "x.npy"), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_maps_read_memory(NULL, 0, NULL, &maps), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_maps_read_file(NULL, NULL, &maps), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_render_matrix(NULL, NULL, count_bytes, &n), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_render_stack(NULL, NULL, count_bytes, &n), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_render_heatmap(NULL, 0, 0, NULL, count_bytes, &n), HM_ERR_BAD_ARGUMENT);
    hm_buffer buffer = {NULL, 0};
    CHECK_STATUS(hm_render_heatmap_memory(NULL, 0, 0, NULL, &buffer), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_render_heatmap_file(NULL, 0, 0, NULL, "x.png"), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_render_grid_memory(NULL, NULL, &buffer), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_render_grid_file(NULL, NULL, "x.png"), HM_ERR_BAD_ARGUMENT);
    CHECK(hm_maps_data(NULL) == NULL);
    CHECK(hm_maps_layer(NULL, 0) == -1);
    CHECK(hm_maps_token(NULL, 0) == NULL);
    hm_model_free(NULL);
    hm_context_free(NULL);
    hm_maps_free(NULL);
    hm_buffer_free(NULL);
    (void)model;
}

static void test_bad_models(void) {
    hm_model* model = NULL;
    CHECK_STATUS(hm_model_load("/nonexistent/headmap-model", NULL, &model), HM_ERR_IO);
    CHECK(model == NULL);
    CHECK(strstr(hm_last_error(), "/nonexistent/headmap-model") != NULL);
    /* A hostile directory: config.json that is not JSON. */
    char dir[] = "/tmp/headmap-c-api-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE* f = fopen(path, "w");
    fputs("{\"model_type\": \"gpt2\", \"n_layer\": ", f);
    fclose(f);
    CHECK_STATUS(hm_model_load(dir, NULL, &model), HM_ERR_BAD_INPUT);
    CHECK(model == NULL);
    f = fopen(path, "w");
    fputs("{\"model_type\": \"t5\"}", f);
    fclose(f);
    CHECK(hm_model_load(dir, NULL, &model) < 0);
    remove(path);
    rmdir(dir);
}

static hm_model* load_tiny(void) {
    hm_model_params params = hm_model_default_params();
    params.tokenizer_dir = "weights/gpt2";
    hm_model* model = NULL;
    CHECK_STATUS(hm_model_load(kTiny, &params, &model), HM_OK);
    return model;
}

static void test_tokens(const hm_model* model) {
    hm_model_info info;
    CHECK_STATUS(hm_model_get_info(model, &info), HM_OK);
    CHECK(strcmp(info.model_type, "gpt2") == 0);
    CHECK(info.n_layer > 0 && info.n_head > 0 && info.max_tokens > 0 && info.causal);
    const hm_input input = {kText, NULL, false};
    size_t n = 0;
    CHECK_STATUS(hm_tokenize(model, &input, NULL, NULL, NULL, 0, &n), HM_ERR_BUFFER_TOO_SMALL);
    CHECK(n > 5 && n < 64);
    int32_t ids[64], types[64], words[64];
    CHECK_STATUS(hm_tokenize(model, &input, ids, types, words, n - 1, &n), HM_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(hm_tokenize(model, &input, ids, types, words, 64, &n), HM_OK);
    CHECK(types[0] == 0 && words[0] == 0 && words[n - 1] >= words[0]);
    size_t length = 0;
    CHECK_STATUS(hm_token_string(model, ids[1], NULL, 0, &length), HM_ERR_BUFFER_TOO_SMALL);
    CHECK(length > 0);
    char token[64];
    CHECK_STATUS(hm_token_string(model, ids[1], token, sizeof token, &length), HM_OK);
    CHECK(strlen(token) == length);
    CHECK_STATUS(hm_token_string(model, -1, token, sizeof token, &length), HM_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hm_token_string(model, info.vocab_size, token, sizeof token, &length),
                 HM_ERR_OUT_OF_RANGE);
    const hm_input empty = {NULL, NULL, false};
    CHECK_STATUS(hm_tokenize(model, &empty, NULL, NULL, NULL, 0, &n), HM_ERR_BAD_ARGUMENT);
    /* Too long without truncation; with it, exactly the model's positions. */
    size_t big = (size_t)info.max_tokens * 8;
    char* text = malloc(big + 1);
    for (size_t i = 0; i < big; i += 2) text[i] = 'a', text[i + 1] = ' ';
    text[big] = '\0';
    const hm_input long_input = {text, NULL, false};
    CHECK_STATUS(hm_tokenize(model, &long_input, NULL, NULL, NULL, 0, &n), HM_ERR_OUT_OF_RANGE);
    const hm_input cut = {text, NULL, true};
    CHECK_STATUS(hm_tokenize(model, &cut, NULL, NULL, NULL, 0, &n), HM_ERR_BUFFER_TOO_SMALL);
    CHECK(n == (size_t)info.max_tokens);
    free(text);
}

static void test_contexts(const hm_model* model) {
    hm_context* ctx = NULL;
    hm_context_params p = hm_context_default_params();
    p.ring_slots = 0;
    CHECK_STATUS(hm_context_new(model, &p, &ctx), HM_ERR_BAD_ARGUMENT);
    p = hm_context_default_params();
    p.max_tokens = 1 << 20;
    CHECK_STATUS(hm_context_new(model, &p, &ctx), HM_ERR_OUT_OF_RANGE);
    p = hm_context_default_params();
    p.device = 7;
    CHECK_STATUS(hm_context_new(model, &p, &ctx), HM_ERR_BAD_ARGUMENT);
    p = hm_context_default_params();
    p.fast = true;
    CHECK_STATUS(hm_context_new(model, &p, &ctx), HM_ERR_BAD_ARGUMENT);
    CHECK(ctx == NULL);
    p = hm_context_default_params();
    p.max_tokens = 4;
    CHECK_STATUS(hm_context_new(model, &p, &ctx), HM_OK);
    hm_capture_params cp = hm_capture_default_params();
    cp.text = kText;
    hm_maps* maps = NULL;
    CHECK_STATUS(hm_capture(ctx, &cp, &maps), HM_ERR_OUT_OF_RANGE);
    CHECK(strstr(hm_context_last_error(ctx), "max_tokens") != NULL);
    hm_context_free(ctx);
}

static void test_capture(const hm_model* model, hm_maps** kept) {
    hm_context* ctx = NULL;
    CHECK_STATUS(hm_context_new(model, NULL, &ctx), HM_OK);
    CHECK(strcmp(hm_context_last_error(ctx), "") == 0);
    hm_model_info info;
    hm_model_get_info(model, &info);
    hm_capture_params cp = hm_capture_default_params();
    hm_maps* maps = NULL;
    CHECK_STATUS(hm_capture(ctx, &cp, &maps), HM_ERR_BAD_ARGUMENT); /* no text */
    cp.text = kText;
    CHECK_STATUS(hm_capture(ctx, &cp, NULL), HM_ERR_BAD_ARGUMENT); /* nothing receives */
    cp.layers = "99";
    CHECK_STATUS(hm_capture(ctx, &cp, &maps), HM_ERR_OUT_OF_RANGE);
    CHECK(strstr(hm_context_last_error(ctx), "99") != NULL);
    cp.layers = "x";
    CHECK_STATUS(hm_capture(ctx, &cp, &maps), HM_ERR_BAD_ARGUMENT);
    cp.layers = "-1";
    cp.heads = "0,-1";
    CHECK_STATUS(hm_capture(ctx, &cp, &maps), HM_OK);
    hm_maps_info mi;
    CHECK_STATUS(hm_maps_get_info(maps, &mi), HM_OK);
    CHECK(mi.n_layers == 1 && mi.n_heads == 2 && mi.seq > 5 && mi.causal && mi.split == -1);
    CHECK(hm_maps_layer(maps, 0) == info.n_layer - 1 && hm_maps_layer(maps, 1) == -1);
    CHECK(hm_maps_token(maps, 0) != NULL && hm_maps_token(maps, mi.seq) == NULL);
    hm_maps_free(maps);
    /* Streaming: every layer once, in order; then a cancel at the second layer. */
    int sum = 0;
    layers_seen = 0;
    cp = hm_capture_default_params();
    cp.text = kText;
    cp.on_layer = count_layers;
    cp.user_data = &sum;
    CHECK_STATUS(hm_capture(ctx, &cp, NULL), HM_OK);
    CHECK(layers_seen == info.n_layer && sum == info.n_layer * (info.n_layer - 1) / 2);
    layers_seen = 0;
    cp.on_layer = cancel_at_second;
    maps = NULL;
    CHECK_STATUS(hm_capture(ctx, &cp, &maps), HM_ERR_CANCELLED);
    CHECK(maps == NULL && layers_seen == 2);
    /* The context still works after a cancel. */
    cp = hm_capture_default_params();
    cp.text = kText;
    CHECK_STATUS(hm_capture(ctx, &cp, kept), HM_OK);
    hm_context_free(ctx);
}

static void test_maps(hm_maps* maps) {
    hm_maps_info mi;
    hm_maps_get_info(maps, &mi);
    const size_t cells = (size_t)mi.seq * (size_t)mi.seq;
    float* map = malloc(cells * sizeof(float));
    CHECK_STATUS(hm_maps_select(maps, -1, HM_HEAD_MEAN, map, cells - 1), HM_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(hm_maps_select(maps, -1, 99, map, cells), HM_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hm_maps_select(maps, 99, 0, map, cells), HM_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hm_maps_select(maps, -1, HM_HEAD_MEAN, map, cells), HM_OK);
    double row = 0;
    for (int j = 0; j < mi.seq; ++j) row += map[(size_t)(mi.seq - 1) * (size_t)mi.seq + (size_t)j];
    CHECK(fabs(row - 1.0) < 1e-4);
    CHECK(map[1] == 0.0f); /* causal: token 0 never sees token 1 */
    CHECK_STATUS(hm_maps_select(maps, 0, -1, map, cells), HM_OK);
    hm_head_stats stats;
    CHECK_STATUS(hm_head_stats_compute(maps, -1, 0, 0.01, &stats), HM_OK);
    CHECK(stats.entropy > 0 && stats.max <= 1.0 && stats.sparsity >= 0);
    CHECK_STATUS(hm_head_stats_compute(maps, -1, HM_HEAD_MEAN, 0.01, &stats), HM_ERR_OUT_OF_RANGE);
    hm_rollout_params rp = hm_rollout_default_params();
    CHECK_STATUS(hm_rollout(maps, &rp, map, cells), HM_OK);
    row = 0;
    for (int j = 0; j < mi.seq; ++j) row += map[(size_t)j + (size_t)(mi.seq - 1) * (size_t)mi.seq];
    CHECK(fabs(row - 1.0) < 1e-4);
    rp.discard_ratio = 1.5;
    CHECK_STATUS(hm_rollout(maps, &rp, map, cells), HM_ERR_BAD_ARGUMENT);
    rp = hm_rollout_default_params();
    CHECK_STATUS(hm_rollout(maps, &rp, map, 1), HM_ERR_BUFFER_TOO_SMALL);
    hm_maps* words = NULL;
    CHECK_STATUS(hm_maps_merge_words(maps, &words), HM_OK);
    hm_maps_info wi;
    hm_maps_get_info(words, &wi);
    CHECK(wi.by_words && wi.seq <= mi.seq && wi.seq == 10); /* ten words in kText */
    hm_maps* twice = NULL;
    CHECK_STATUS(hm_maps_merge_words(words, &twice), HM_ERR_BAD_ARGUMENT);
    hm_maps_free(words);
    free(map);
}

static void test_export_and_read(const hm_maps* maps) {
    hm_buffer npy = {NULL, 0}, other = {NULL, 0};
    CHECK_STATUS(hm_export_memory(maps, HM_FORMAT_NPY, &npy), HM_OK);
    CHECK(npy.size > 10 && memcmp(npy.data, "\x93NUMPY", 6) == 0);
    CHECK_STATUS(hm_export_memory(maps, HM_FORMAT_NPZ, &other), HM_OK);
    CHECK(memcmp(other.data, "PK", 2) == 0);
    hm_buffer_free(&other);
    CHECK(other.data == NULL && other.size == 0);
    CHECK_STATUS(hm_export_memory(maps, HM_FORMAT_JSON, &other), HM_OK);
    CHECK(((const char*)other.data)[0] == '{');
    hm_buffer_free(&other);
    CHECK_STATUS(hm_export_memory(maps, HM_FORMAT_SAFETENSORS, &other), HM_OK);
    CHECK(other.size > 8);
    hm_maps* back = NULL;
    hm_read_params rp = hm_read_default_params();
    CHECK_STATUS(hm_maps_read_memory(other.data, other.size, &rp, &back), HM_ERR_UNSUPPORTED);
    rp.format = HM_FORMAT_SAFETENSORS;
    CHECK_STATUS(hm_maps_read_memory(other.data, other.size, &rp, &back), HM_OK);
    hm_maps_free(back);
    hm_buffer_free(&other);
    CHECK_STATUS(hm_export_memory(maps, 99, &other), HM_ERR_BAD_ARGUMENT);
    /* Read the .npy back: the same numbers; tokens and split checked. */
    rp = hm_read_default_params();
    rp.format = HM_FORMAT_NPY;
    CHECK_STATUS(hm_maps_read_memory(npy.data, npy.size, &rp, &back), HM_OK);
    hm_maps_info a, b;
    hm_maps_get_info(maps, &a);
    hm_maps_get_info(back, &b);
    const size_t count = (size_t)a.n_layers * (size_t)a.n_heads * (size_t)a.seq * (size_t)a.seq;
    CHECK(a.n_layers == b.n_layers && a.seq == b.seq && b.causal);
    CHECK(memcmp(hm_maps_data(maps), hm_maps_data(back), count * sizeof(float)) == 0);
    hm_maps_free(back);
    const char* two[] = {"a", "b"};
    rp.tokens = two;
    rp.n_tokens = 2;
    CHECK_STATUS(hm_maps_read_memory(npy.data, npy.size, &rp, &back), HM_ERR_BAD_ARGUMENT);
    rp.tokens = NULL;
    rp.split = a.seq;
    CHECK_STATUS(hm_maps_read_memory(npy.data, npy.size, &rp, &back), HM_ERR_OUT_OF_RANGE);
    rp.split = -1;
    CHECK_STATUS(hm_maps_read_memory("garbage", 7, &rp, &back), HM_ERR_BAD_INPUT);
    ((unsigned char*)npy.data)[npy.size - 1] = 0xff; /* a NaN or negative value */
    ((unsigned char*)npy.data)[npy.size - 2] = 0xff;
    CHECK_STATUS(hm_maps_read_memory(npy.data, npy.size, &rp, &back), HM_ERR_BAD_INPUT);
    hm_buffer_free(&npy);
    /* Files: atomic writes, read back; unwritable and unknown paths. */
    char path[] = "/tmp/headmap-c-api-XXXXXX.npy";
    int fd = mkstemps(path, 4);
    close(fd);
    CHECK_STATUS(hm_export_file(maps, path), HM_OK);
    CHECK_STATUS(hm_maps_read_file(path, NULL, &back), HM_OK);
    hm_maps_free(back);
    remove(path);
    CHECK_STATUS(hm_maps_read_file(path, NULL, &back), HM_ERR_IO);
    CHECK_STATUS(hm_export_file(maps, "/nonexistent/dir/attn.npy"), HM_ERR_IO);
    CHECK_STATUS(hm_export_file(maps, "/tmp/attn.xyz"), HM_ERR_UNSUPPORTED);
}

static void test_render(const hm_maps* maps) {
    hm_render_params p = hm_render_default_params();
    hm_buffer png = {NULL, 0};
    CHECK_STATUS(hm_render_heatmap_memory(maps, -1, HM_HEAD_MEAN, &p, &png), HM_OK);
    CHECK(png.size > 100 && memcmp(png.data, "\x89PNG", 4) == 0);
    hm_buffer_free(&png);
    p.format = HM_FORMAT_SVG;
    CHECK_STATUS(hm_render_heatmap_memory(maps, 0, 1, &p, &png), HM_OK);
    CHECK(strstr((const char*)png.data, "<svg") != NULL);
    hm_buffer_free(&png);
    p.format = HM_FORMAT_PDF;
    CHECK_STATUS(hm_render_grid_memory(maps, &p, &png), HM_OK);
    CHECK(memcmp(png.data, "%PDF", 4) == 0);
    hm_buffer_free(&png);
    size_t written = 0;
    CHECK_STATUS(hm_render_heatmap(maps, -1, HM_HEAD_MAX, NULL, count_bytes, &written), HM_OK);
    CHECK(written > 100);
    CHECK_STATUS(hm_render_heatmap(maps, -1, 0, NULL, refuse_bytes, NULL), HM_ERR_CANCELLED);
    p = hm_render_default_params();
    p.gamma = 0;
    CHECK_STATUS(hm_render_heatmap_memory(maps, -1, 0, &p, &png), HM_ERR_BAD_ARGUMENT);
    p = hm_render_default_params();
    p.colormap = "no-such-map";
    CHECK_STATUS(hm_render_heatmap_memory(maps, -1, 0, &p, &png), HM_ERR_BAD_INPUT);
    p = hm_render_default_params();
    p.font_data = "not a font";
    p.font_size = 10;
    CHECK_STATUS(hm_render_heatmap_memory(maps, -1, 0, &p, &png), HM_ERR_BAD_INPUT);
    CHECK(strstr(hm_last_error(), "font_data") != NULL);
    p.font_size = 0;
    CHECK_STATUS(hm_render_heatmap_memory(maps, -1, 0, &p, &png), HM_ERR_BAD_ARGUMENT);
    /* A real TrueType font from memory, where the system has DejaVu. */
    FILE* ttf = fopen("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "rb");
    if (ttf) {
        static char font[1 << 20];
        const size_t size = fread(font, 1, sizeof font, ttf);
        fclose(ttf);
        p.font_data = font;
        p.font_size = size;
        p.format = HM_FORMAT_PDF;
        CHECK_STATUS(hm_render_heatmap_memory(maps, -1, 0, &p, &png), HM_OK);
        CHECK(png.size > 1000);
        hm_buffer_free(&png);
    }
    p = hm_render_default_params();
    p.format = HM_FORMAT_AUTO;
    char path[] = "/tmp/headmap-c-api-XXXXXX.svg";
    int fd = mkstemps(path, 4);
    close(fd);
    CHECK_STATUS(hm_render_heatmap_file(maps, -1, HM_HEAD_MEAN, &p, path), HM_OK);
    CHECK_STATUS(hm_render_grid_file(maps, &p, path), HM_OK);
    remove(path);
    CHECK_STATUS(hm_render_heatmap_file(maps, -1, 0, &p, "/tmp/heat.bmp"), HM_ERR_UNSUPPORTED);
    CHECK_STATUS(hm_render_heatmap_file(maps, -1, 0, &p, "/nonexistent/heat.png"), HM_ERR_IO);
    /* The drawing room's own entry points, on plain data. */
    const float values[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
    const char* rows[2] = {"r0", "r1"};
    hm_matrix m = {values, 2, 3, rows, NULL, false, -1};
    written = 0;
    CHECK_STATUS(hm_render_matrix(&m, NULL, count_bytes, &written), HM_OK);
    CHECK(written > 0);
    m.rows = 0;
    CHECK_STATUS(hm_render_matrix(&m, NULL, count_bytes, &written), HM_ERR_OUT_OF_RANGE);
    hm_map_stack stack = {values, 1, 1, 2, NULL, NULL, false};
    CHECK_STATUS(hm_render_stack(&stack, NULL, count_bytes, &written), HM_OK);
    stack.n_heads = 0;
    CHECK_STATUS(hm_render_stack(&stack, NULL, count_bytes, &written), HM_ERR_OUT_OF_RANGE);
}

/* The views over several maps: every view draws in every format, and each rule is checked. */
static void test_views(void) {
    const float a[9] = {0.7f, 0.2f, 0.1f, 0.1f, 0.8f, 0.1f, 0.3f, 0.3f, 0.4f};
    const float b[9] = {0.5f, 0.4f, 0.1f, 0.2f, 0.6f, 0.2f, 0.1f, 0.1f, 0.8f};
    const float c[9] = {0.6f, 0.3f, 0.1f, 0.0f, 0.9f, 0.1f, 0.2f, 0.2f, 0.6f};
    const float* maps[3] = {a, b, c};
    const char* tokens[3] = {"The",
                             "\xc4\xa0"
                             "cat",
                             "<sat>&"};
    const int views[5] = {HM_VIEW_COMPARE, HM_VIEW_DIFFERENCE, HM_VIEW_STABILITY, HM_VIEW_EVOLUTION,
                          HM_VIEW_REGIONS};
    const int counts[5] = {2, 2, 3, 3, 1};
    const int formats[3] = {HM_FORMAT_PNG, HM_FORMAT_SVG, HM_FORMAT_PDF};
    for (int v = 0; v < 5; ++v) {
        hm_views_input in = hm_views_default_input();
        CHECK(in.circle_scale == 1.0f && in.n_seeds == 5);
        in.view = views[v];
        in.maps = maps;
        in.n_maps = counts[v];
        in.rows = in.cols = 3;
        in.row_labels = in.col_labels = tokens;
        for (int f = 0; f < 3; ++f) {
            hm_render_params p = hm_render_default_params();
            p.format = formats[f];
            size_t written = 0;
            CHECK_STATUS(hm_render_views(&in, &p, count_bytes, &written), HM_OK);
            CHECK(written > 100);
        }
        size_t written = 0;
        CHECK_STATUS(hm_render_views(&in, NULL, refuse_bytes, &written), HM_ERR_CANCELLED);
        in.n_maps = counts[v] == 1 ? 2 : 1; /* too many for regions, too few for the others */
        CHECK_STATUS(hm_render_views(&in, NULL, count_bytes, &written), HM_ERR_BAD_ARGUMENT);
        in.n_maps = counts[v];
        in.rows = 0;
        CHECK_STATUS(hm_render_views(&in, NULL, count_bytes, &written), HM_ERR_OUT_OF_RANGE);
    }
    hm_views_input in = hm_views_default_input();
    size_t written = 0;
    in.maps = maps;
    in.n_maps = 2;
    in.rows = in.cols = 3;
    CHECK_STATUS(hm_render_views(&in, NULL, count_bytes, &written),
                 HM_ERR_BAD_ARGUMENT); /* view 0 */
    in.view = HM_VIEW_COMPARE;
    in.circle_scale = 0.0f;
    CHECK_STATUS(hm_render_views(&in, NULL, count_bytes, &written), HM_ERR_BAD_ARGUMENT);
    in.circle_scale = 1.0f;
    const float* holes[2] = {a, NULL};
    in.maps = holes;
    CHECK_STATUS(hm_render_views(&in, NULL, count_bytes, &written), HM_ERR_BAD_ARGUMENT);
    CHECK(strstr(hm_last_error(), "maps[1]") != NULL);
    in.maps = NULL;
    CHECK_STATUS(hm_render_views(&in, NULL, count_bytes, &written), HM_ERR_BAD_ARGUMENT);
    CHECK_STATUS(hm_render_views(NULL, NULL, count_bytes, &written), HM_ERR_BAD_ARGUMENT);
    in.view = HM_VIEW_REGIONS;
    in.maps = maps;
    in.n_maps = 1;
    in.n_seeds = 0;
    CHECK_STATUS(hm_render_views(&in, NULL, count_bytes, &written), HM_ERR_BAD_ARGUMENT);
}

static void test_pair(void) {
    hm_model* bert = NULL;
    CHECK_STATUS(hm_model_load("tests/data/bert-tiny", NULL, &bert), HM_OK);
    hm_context* ctx = NULL;
    CHECK_STATUS(hm_context_new(bert, NULL, &ctx), HM_OK);
    hm_capture_params cp = hm_capture_default_params();
    cp.text = "Where is the cat?";
    cp.pair = "The cat is on the mat.";
    cp.words = true;
    hm_maps* maps = NULL;
    CHECK_STATUS(hm_capture(ctx, &cp, &maps), HM_OK);
    hm_maps_info mi;
    hm_maps_get_info(maps, &mi);
    CHECK(mi.split == 7 && mi.by_words && !mi.causal); /* [CLS] where is the cat ? [SEP] */
    CHECK(strcmp(hm_maps_token(maps, 0), "[CLS]") == 0);
    hm_maps_free(maps);
    hm_context_free(ctx);
    hm_model_free(bert);
}

int main(void) {
    test_version_and_statuses();
    test_views();
    test_null_handles();
    test_bad_models();
    hm_model* model = load_tiny();
    if (model) {
        test_tokens(model);
        test_contexts(model);
        hm_maps* maps = NULL;
        test_capture(model, &maps);
        if (maps) {
            test_maps(maps);
            test_export_and_read(maps);
            test_render(maps);
        }
        hm_maps_free(maps);
    }
    hm_model_free(model);
    test_pair();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
