/* For each word of a sentence, the word it attends to most in one layer (mean of the heads).
 * usage: attends_most [TEXT] [LAYER]   (default model; LAYER negative from the end, default -1)
 * build: cc attends_most.c $(pkg-config --cflags --libs headmap) -o attends_most */
#include <headmap/headmap.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char* what) {
    fprintf(stderr, "attends_most: %s: %s\n", what, hm_last_error());
    return 1;
}

int main(int argc, char** argv) {
    const char* text = argc > 1 ? argv[1] : "The quick brown fox jumps over the lazy dog";
    const int layer = argc > 2 ? atoi(argv[2]) : -1;
    hm_model* model = NULL;
    hm_context* ctx = NULL;
    hm_maps* maps = NULL;
    if (hm_model_load(NULL, NULL, &model) != HM_OK) return fail("load");
    if (hm_context_new(model, NULL, &ctx) != HM_OK) return fail("context");
    hm_capture_params params = hm_capture_default_params();
    params.text = text;
    params.words = true; /* word-level maps: sub-word tokens merged */
    if (hm_capture(ctx, &params, &maps) != HM_OK) return fail("capture");
    hm_maps_info info;
    hm_maps_get_info(maps, &info);
    const size_t n = (size_t)info.seq;
    float* map = malloc(n * n * sizeof *map);
    int status = 0;
    if (!map || hm_maps_select(maps, layer, HM_HEAD_MEAN, map, n * n) != HM_OK) {
        status = fail("select");
    } else {
        for (size_t i = 0; i < n; ++i) {
            size_t best = 0;
            for (size_t j = 1; j < n; ++j)
                if (map[i * n + j] > map[i * n + best]) best = j;
            printf("%-12s -> %-12s %.3f\n", hm_maps_token(maps, (int)i),
                   hm_maps_token(maps, (int)best), map[i * n + best]);
        }
    }
    free(map);
    hm_maps_free(maps);
    hm_context_free(ctx);
    hm_model_free(model);
    return status;
}
