// The promise that a fast forward allocates nothing on the heap, and the allocation counter that
// proves it. Kept in an executable of its own: the allocator replacements below are global.
//
// Allocation accounting. This file replaces the global operator new/delete (every usual
// overload: plain, array, nothrow, aligned, sized) with versions that count calls while
// g_counting is set. With glibc and no sanitizer it also interposes malloc, calloc, realloc,
// free and the aligned allocators (forwarding to glibc's __libc_* entry points), so allocations
// made by C code (OpenBLAS, libc) are counted too, transient malloc/free pairs included.
// mallinfo2() is used as a third, independent check: it only sees bytes still held at the end
// (net growth), so it cannot prove the absence of malloc/free pairs by itself.
// Under AddressSanitizer malloc belongs to the sanitizer runtime: the malloc interposer and the
// mallinfo2 check are compiled out (the sanitizer's allocator is not glibc's, so mallinfo2 would
// report an untouched heap), while the operator new/delete replacements stay (the executable's
// definitions take precedence over libasan's and forward to malloc/free, which ASan still
// checks), so the operator-new proof runs in every build.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "engine/attention_ring.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "ring_test_support.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HEADMAP_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define HEADMAP_TEST_SANITIZED 1
#endif
#endif
#if defined(__GLIBC__) && !defined(HEADMAP_TEST_SANITIZED)
#define HEADMAP_TEST_COUNT_MALLOC 1
#include <malloc.h>
#endif

// ------------------------------------------------------------------------------------------------
// Allocation counters (constant-initialised: safe before main and from any thread).

namespace {

std::atomic<bool> g_counting{false};
std::atomic<long> g_news{0}, g_deletes{0}, g_mallocs{0}, g_frees{0};

inline void note_new() {
    if (g_counting.load(std::memory_order_relaxed)) g_news.fetch_add(1, std::memory_order_relaxed);
}
inline void note_delete(void* p) {
    if (p && g_counting.load(std::memory_order_relaxed))
        g_deletes.fetch_add(1, std::memory_order_relaxed);
}

void* counted_new(std::size_t n) noexcept {
    note_new();
    return std::malloc(n ? n : 1);
}

void* counted_aligned_new(std::size_t n, std::align_val_t align) noexcept {
    note_new();
    std::size_t a = static_cast<std::size_t>(align);
    if (a < sizeof(void*)) a = sizeof(void*);
    void* p = nullptr;
    return posix_memalign(&p, a, n ? n : 1) == 0 ? p : nullptr;
}

void counted_delete(void* p) noexcept {
    note_delete(p);
    std::free(p);
}

}  // namespace

void* operator new(std::size_t n) {
    if (void* p = counted_new(n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    if (void* p = counted_new(n)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return counted_new(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return counted_new(n);
}
void* operator new(std::size_t n, std::align_val_t a) {
    if (void* p = counted_aligned_new(n, a)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
    if (void* p = counted_aligned_new(n, a)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_aligned_new(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_aligned_new(n, a);
}
void operator delete(void* p) noexcept {
    counted_delete(p);
}
void operator delete[](void* p) noexcept {
    counted_delete(p);
}
void operator delete(void* p, std::size_t) noexcept {
    counted_delete(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    counted_delete(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    counted_delete(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    counted_delete(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    counted_delete(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    counted_delete(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    counted_delete(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    counted_delete(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    counted_delete(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    counted_delete(p);
}

#ifdef HEADMAP_TEST_COUNT_MALLOC
// glibc supports replacing malloc from the main program; these forward to glibc's own allocator
// (so pointers from any entry point can be freed by any other) and count calls.
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
void* __libc_memalign(size_t, size_t);
void* __libc_valloc(size_t);
void* __libc_pvalloc(size_t);
}
namespace {
inline void note_malloc() {
    if (g_counting.load(std::memory_order_relaxed))
        g_mallocs.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace
extern "C" {
void* malloc(size_t n) noexcept {
    note_malloc();
    return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) noexcept {
    note_malloc();
    return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) noexcept {
    note_malloc();
    return __libc_realloc(p, n);
}
void free(void* p) noexcept {
    if (p && g_counting.load(std::memory_order_relaxed))
        g_frees.fetch_add(1, std::memory_order_relaxed);
    __libc_free(p);
}
void* memalign(size_t align, size_t n) noexcept {
    note_malloc();
    return __libc_memalign(align, n);
}
void* aligned_alloc(size_t align, size_t n) noexcept {
    note_malloc();
    return __libc_memalign(align, n);
}
int posix_memalign(void** out, size_t align, size_t n) noexcept {
    note_malloc();
    if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
    void* p = __libc_memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
void* valloc(size_t n) noexcept {
    note_malloc();
    return __libc_valloc(n);
}
void* pvalloc(size_t n) noexcept {
    note_malloc();
    return __libc_pvalloc(n);
}
}
#endif

using namespace headmap;
using namespace std::chrono_literals;
using namespace ring_test;

namespace {

#ifdef HEADMAP_TEST_COUNT_MALLOC
constexpr bool kMallocCounted = true;
#else
constexpr bool kMallocCounted = false;
#endif

struct AllocCounts {
    long news = 0, deletes = 0, mallocs = 0, frees = 0;
    long long heap_bytes_delta = 0;  // mallinfo2: in-use bytes after - before (glibc builds)
};

#ifdef HEADMAP_TEST_COUNT_MALLOC
long long heap_in_use() {
    const struct mallinfo2 m = mallinfo2();
    return static_cast<long long>(m.uordblks + m.hblkhd);
}
#endif

// Opens the counting window. Nothing here or in end_counting() allocates.
struct CountingWindow {
    long long heap_before = 0;
    CountingWindow() {
#ifdef HEADMAP_TEST_COUNT_MALLOC
        heap_before = heap_in_use();
#endif
        g_news.store(0), g_deletes.store(0), g_mallocs.store(0), g_frees.store(0);
        g_counting.store(true);
    }
    AllocCounts close() {
        g_counting.store(false);
        AllocCounts c;
        c.news = g_news.load(), c.deletes = g_deletes.load();
        c.mallocs = g_mallocs.load(), c.frees = g_frees.load();
#ifdef HEADMAP_TEST_COUNT_MALLOC
        c.heap_bytes_delta = heap_in_use() - heap_before;
#endif
        return c;
    }
    ~CountingWindow() {
        g_counting.store(false);
    }
};

}  // namespace

// ------------------------------------------------------------------------------------------------
// No heap allocation during a forward

namespace {

int* volatile g_sink_int = nullptr;
void* volatile g_sink_void = nullptr;

// A gpt2-small layer shape (C 768, 12 heads, F 3072) with fewer layers and a small vocabulary,
// so random initialisation stays fast (also under the sanitizers).
Engine& alloc_engine() {
    static Engine engine = [] {
        ModelConfig c;
        c.model_type = "gpt2";
        c.n_layer = 4;
        c.n_head = 12;
        c.d_model = 768;
        c.d_ff = 3072;
        c.max_positions = 256;
        c.vocab_size = 1024;
        c.activation = Activation::GeluTanh;
        return Engine::random(c, 2024, EngineOptions{2, 2, 0});  // K = 2 < 4 layers
    }();
    return engine;
}

struct ForwardOutcome {
    AllocCounts counts;
    ForwardResult result;
    int slots_seen = 0;
    bool threw = false, timed_out = false;
};

// ring().reset(); a consumer thread loops next()/release() (allocating nothing) and does not exit
// until the window is closed (a thread's exit frees its std::thread state); then forward() runs
// inside the counting window on this thread.
ForwardOutcome counted_forward(Engine& engine, const ForwardRequest& request, bool count) {
    ForwardOutcome out;
    AttentionRing& ring = engine.ring();
    ring.reset();
    std::atomic<int> slots{0};
    std::atomic<bool> started{false}, may_exit{false};
    std::thread consumer([&] {
        started = true;
        while (auto slot = ring.next()) {
            slots.fetch_add(1, std::memory_order_relaxed);
            ring.release(*slot);
        }
        while (!may_exit.load()) std::this_thread::yield();
    });
    while (!started.load()) std::this_thread::yield();
    {
        Watchdog watchdog(60s, [&] { ring.cancel(); });
        std::optional<CountingWindow> window;
        if (count) window.emplace();
        try {
            out.result = engine.forward(request);
        } catch (...) {
            out.threw = true;
        }
        if (window) out.counts = window->close();
        out.timed_out = watchdog.fired();
    }
    may_exit = true;
    consumer.join();
    out.slots_seen = slots.load();
    return out;
}

// Warms up at every length the cases run: the first input of a length that runs on packed panels
// packs them, once (kernels/cpu/packed_linear.h); what must not allocate is every forward after.
void warm_up(Engine& engine, std::span<const int32_t> ids) {
    static bool done = false;
    if (done) return;
    done = true;
    ForwardRequest request;
    request.hidden = true;
    for (const size_t len : {ids.size(), size_t(100), size_t(1)}) {
        request.ids = ids.first(std::min(len, ids.size()));
        for (int i = 0; i < 3; ++i) {
            const ForwardOutcome o = counted_forward(engine, request, false);
            REQUIRE_FALSE(o.threw);
        }
    }
    request.ids = ids;
    const std::vector<uint8_t> some{0, 1, 0, 0};
    request.emit_layers = some;
    REQUIRE_FALSE(counted_forward(engine, request, false).threw);
}

}  // namespace

namespace {
bool malloc_counted() {
    if (!kMallocCounted)
        MESSAGE(
            "malloc interposition and mallinfo2 are off in this (sanitized or non-glibc) "
            "build; operator new/delete counting is the proof");
    return kMallocCounted;
}
}  // namespace

TEST_CASE("allocation counter: counts what it should") {
    SUBCASE("a deliberate new int inside the window is counted") {
        CountingWindow window;
        g_sink_int = new int(5);
        const AllocCounts c = window.close();
        delete g_sink_int;
        CHECK(c.news == 1);
        CHECK(c.deletes == 0);
    }
    SUBCASE("new[], nothrow and aligned new, and every delete are counted") {
        struct alignas(64) Wide {
            float v[16];
        };
        CountingWindow window;
        int* a = new int[7];
        int* b = new (std::nothrow) int(1);
        Wide* w = new Wide;
        Wide* ws = new Wide[3];
        delete[] a;
        delete b;
        delete w;
        delete[] ws;
        const AllocCounts c = window.close();
        CHECK(c.news == 4);
        CHECK(c.deletes == 4);
    }
    SUBCASE("an allocation on another thread is counted") {
        std::atomic<int> step{0};
        std::thread other([&] {
            while (step.load() != 1) std::this_thread::yield();
            g_sink_int = new int(6);
            step = 2;
        });
        AllocCounts c;
        {
            CountingWindow window;
            step = 1;
            while (step.load() != 2) std::this_thread::yield();
            c = window.close();
        }
        other.join();
        delete g_sink_int;
        CHECK(c.news == 1);
    }
    SUBCASE("nothing is counted outside the window") {
        CountingWindow window;
        const AllocCounts c0 = window.close();
        g_sink_int = new int(7);
        delete g_sink_int;
        const AllocCounts c1 = window.close();
        CHECK(c0.news == 0);
        CHECK(c1.news == 0);
        CHECK(c1.deletes == 0);
    }
    SUBCASE("malloc, calloc, realloc and free are counted (glibc, no sanitizer)") {
        if (!malloc_counted()) return;
        CountingWindow window;
        void* p = std::malloc(24);
        g_sink_void = p;
        p = std::realloc(p, 4096);
        g_sink_void = p;
        std::free(p);
        g_sink_void = std::calloc(3, 8);
        const AllocCounts c = window.close();
        std::free(g_sink_void);
        CHECK(c.mallocs == 3);
        CHECK(c.frees == 1);
        CHECK(c.heap_bytes_delta > 0);  // the calloc block is still held: mallinfo2 sees it
    }
    SUBCASE("allocations made inside shared libraries reach the interposer") {
        if (!malloc_counted()) return;
        CountingWindow window;
        char* copy = strdup("headmap");  // libc.so allocating internally
        g_sink_void = copy;
        const AllocCounts c = window.close();
        std::free(copy);
        CHECK(c.mallocs == 1);
    }
    SUBCASE("operator new reaches the counted malloc") {
        if (!malloc_counted()) return;
        CountingWindow window;
        g_sink_int = new int(8);
        const AllocCounts c = window.close();
        delete g_sink_int;
        CHECK(c.news == 1);
        CHECK(c.mallocs == 1);
    }
}

TEST_CASE("no heap allocation during a forward") {
    Engine& engine = alloc_engine();
    const int S = engine.max_seq();
    const auto ids = random_ids(S, engine.config().vocab_size, 77);
    warm_up(engine, ids);
    const int L = engine.config().n_layer;
    REQUIRE(engine.ring().slots() < L);  // the producer hits backpressure

    SUBCASE("all layers emitted, ring smaller than the layer count") {
        for (int len : {S, 100, 1}) {
            INFO("S=" << len);
            ForwardRequest request;
            request.ids = std::span<const int32_t>(ids).first(size_t(len));
            const ForwardOutcome o = counted_forward(engine, request, true);
            CHECK_FALSE(o.threw);
            CHECK_FALSE(o.timed_out);
            CHECK(o.result.maps_published == L);
            CHECK(o.slots_seen == L);
            CHECK(o.counts.news == 0);
            CHECK(o.counts.deletes == 0);
            CHECK(o.counts.mallocs == 0);
            CHECK(o.counts.frees == 0);
            CHECK(o.counts.heap_bytes_delta == 0);
        }
    }
    SUBCASE("some layers emitted (scratch path) and the hidden state") {
        const std::vector<uint8_t> emit{0, 1, 0, 1};
        ForwardRequest request;
        request.ids = ids;
        request.emit_layers = emit;
        request.hidden = true;
        const ForwardOutcome o = counted_forward(engine, request, true);
        CHECK_FALSE(o.threw);
        CHECK_FALSE(o.timed_out);
        CHECK(o.result.layers_computed == L);
        CHECK(o.result.maps_published == 2);
        CHECK(o.slots_seen == 2);
        CHECK(o.result.hidden.size() == size_t(S) * engine.config().d_model);
        CHECK(o.counts.news == 0);
        CHECK(o.counts.deletes == 0);
        CHECK(o.counts.mallocs == 0);
        CHECK(o.counts.frees == 0);
        CHECK(o.counts.heap_bytes_delta == 0);
    }
    SUBCASE("control: the Reference backend does allocate, and the counter sees it") {
        const std::vector<uint8_t> emit{1, 0, 0, 0};  // layer 0's maps discarded -> vector
        ForwardRequest request;
        request.ids = std::span<const int32_t>(ids).first(8);
        request.emit_layers = emit;
        request.hidden = true;
        request.backend = Backend::Reference;
        const ForwardOutcome o = counted_forward(engine, request, true);
        CHECK_FALSE(o.threw);
        CHECK(o.counts.news > 0);
    }
}