/* The C API's capture against the CLI's export, on the seed sentence (tools/bench_c_api.sh runs
 * both side by side). Prints one JSON line: the median over `runs` of (a) a whole export through
 * the API as the CLI does it in one process (load, context, capture every layer, write .npy) and
 * (b) capture alone with a warm model and context. */
#define _POSIX_C_SOURCE 200809L
#include <headmap/headmap.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}
static int by_value(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}
static double median(double* v, int n) {
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char** argv) {
    const char* text = argc > 1 ? argv[1] : "A new sentence to visualize attention weights";
    const char* out = argc > 2 ? argv[2] : "/tmp/headmap_bench_c_api.npy";
    const int runs = argc > 3 ? atoi(argv[3]) : 20;
    double whole[256], capture[256];
    hm_capture_params params = hm_capture_default_params();
    params.text = text;
    for (int r = 0; r < runs && r < 256; ++r) {
        const double start = now_ms();
        hm_model* model = NULL;
        hm_context* ctx = NULL;
        hm_maps* maps = NULL;
        if (hm_model_load(NULL, NULL, &model) || hm_context_new(model, NULL, &ctx) ||
            hm_capture(ctx, &params, &maps) || hm_export_file(maps, out)) {
            fprintf(stderr, "bench_c_api: %s\n", hm_last_error());
            return 1;
        }
        whole[r] = now_ms() - start;
        hm_maps_free(maps);
        const double warm = now_ms();
        hm_capture(ctx, &params, &maps);
        capture[r] = now_ms() - warm;
        hm_maps_free(maps);
        hm_context_free(ctx);
        hm_model_free(model);
    }
    printf(
        "{\"bench\": \"c_api\", \"runs\": %d, \"export_in_process_ms\": %.3f, "
        "\"warm_capture_ms\": %.3f}\n",
        runs, median(whole, runs), median(capture, runs));
    return 0;
}
