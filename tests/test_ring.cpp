// The attention ring (order, content, backpressure, misuse, cancel/reset) and Engine::run over it
// (ring sizes, consumer and forward errors). The promise that a fast forward allocates nothing on
// the heap is tested in test_forward_no_alloc.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/attention_ring.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine_test_support.h"
#include "headmap/error.hpp"
#include "ring_test_support.h"

using namespace headmap;
using engine_test::tiny_config;
using namespace std::chrono_literals;
using namespace ring_test;

namespace {

float pattern(int layer, size_t i) {
    return float(layer * 100000 + int(i % 99991));
}

struct ConsumerFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace

// ------------------------------------------------------------------------------------------------
// AttentionRing on its own

TEST_CASE("ring: the consumer sees every layer in order with the producer's content") {
    const int H = 3, S_max = 9;
    for (int K : {1, 2, 3}) {
        for (int L : {1, 6, 40}) {
            INFO("slots=" << K << " layers=" << L);
            AttentionRing ring(K, size_t(H) * S_max * S_max);
            CHECK(ring.slots() == K);
            CHECK(ring.floats_per_slot() == size_t(H) * S_max * S_max);
            Watchdog watchdog(10s, [&] { ring.cancel(); });
            std::atomic<int> producer_errors{0};
            std::thread producer([&] {
                try {
                    for (int l = 0; l < L; ++l) {
                        const int S = 1 + l % S_max;  // a different length per layer
                        std::span<float> maps = ring.acquire(size_t(H) * S * S);
                        if (maps.size() != size_t(H) * S * S) producer_errors.fetch_add(1);
                        for (size_t i = 0; i < maps.size(); ++i) maps[i] = pattern(l, i);
                        ring.publish(l, S, H);
                    }
                    ring.finish();
                } catch (...) {
                    producer_errors.fetch_add(100);
                }
            });
            int seen = 0;
            bool content_ok = true, meta_ok = true;
            while (auto slot = ring.next()) {
                const int S = 1 + seen % S_max;
                if (slot->layer != seen || slot->seq_len != S || slot->n_head != H ||
                    slot->sequence != uint64_t(seen) || slot->maps.size() != size_t(H) * S * S)
                    meta_ok = false;
                std::this_thread::yield();  // give a misbehaving producer time to overwrite
                for (size_t i = 0; i < slot->maps.size() && content_ok; ++i)
                    content_ok = slot->maps[i] == pattern(seen, i);
                for (int h = 0; h < H && content_ok && meta_ok; ++h) {
                    const auto head = slot->head(h);
                    content_ok = head.size() == size_t(S) * S &&
                                 head.data() == slot->maps.data() + size_t(h) * S * S &&
                                 head[0] == pattern(seen, size_t(h) * S * S);
                }
                ring.release(*slot);
                ++seen;
            }
            producer.join();
            CHECK(!watchdog.fired());
            CHECK(seen == L);
            CHECK(meta_ok);
            CHECK(content_ok);
            CHECK(producer_errors.load() == 0);
            CHECK_FALSE(ring.next().has_value());  // still drained and finished
        }
    }
}

TEST_CASE("ring: a slow consumer never sees a slot overwritten (stress)") {
    for (int K : {1, 2, 3}) {
        INFO("slots=" << K);
        const int L = 3000, n = 257;
        AttentionRing ring(K, n);
        Watchdog watchdog(20s, [&] { ring.cancel(); });
        std::thread producer([&] {
            try {
                for (int l = 0; l < L; ++l) {
                    std::span<float> maps = ring.acquire(n);
                    for (int i = 0; i < n; ++i) maps[size_t(i)] = pattern(l, size_t(i));
                    ring.publish(l, 1, n);  // seq_len 1, n heads: n floats
                }
                ring.finish();
            } catch (...) {
            }
        });
        int seen = 0;
        bool ok = true;
        while (auto slot = ring.next()) {
            ok &= slot->layer == seen && slot->maps.size() == size_t(n);
            const float first = slot->maps[0];
            if (seen % 97 == 0) std::this_thread::sleep_for(100us);
            for (int i = 0; i < n; ++i) ok &= slot->maps[size_t(i)] == pattern(seen, size_t(i));
            ok &= slot->maps[0] == first;
            ring.release(*slot);
            ++seen;
        }
        producer.join();
        CHECK(!watchdog.fired());
        CHECK(seen == L);
        CHECK(ok);
    }
}

TEST_CASE("ring: the producer blocks after K unreleased publishes (backpressure)") {
    for (int K : {1, 2, 3}) {
        INFO("slots=" << K);
        const size_t n = 16;
        AttentionRing ring(K, n);
        Watchdog watchdog(15s, [&] { ring.cancel(); });
        std::atomic<int> acquired{0};
        std::vector<float*> storage(size_t(K) + 2, nullptr);
        std::atomic<bool> producer_threw{false};
        std::thread producer([&] {
            try {
                for (int l = 0; l < K + 2; ++l) {
                    std::span<float> maps = ring.acquire(n);
                    storage[size_t(l)] = maps.data();
                    acquired.fetch_add(1);
                    maps[0] = float(l);
                    ring.publish(l, 1, int(n));
                }
                ring.finish();
            } catch (...) {
                producer_threw = true;
            }
        });
        // K acquires go through at once.
        CHECK(eventually([&] { return acquired.load() == K; }));
        std::this_thread::sleep_for(150ms);
        CHECK(acquired.load() == K);  // the (K+1)-th acquire is blocked
        // Taking slots is not releasing them: still blocked.
        std::vector<AttentionSlot> held;
        for (int i = 0; i < K; ++i) {
            auto slot = ring.next();
            REQUIRE(slot.has_value());
            CHECK(slot->layer == i);
            CHECK(slot->maps[0] == float(i));
            held.push_back(*slot);
        }
        std::this_thread::sleep_for(100ms);
        CHECK(acquired.load() == K);
        // One release lets exactly one more acquire through, and it reuses the oldest slot.
        ring.release(held[0]);
        CHECK(eventually([&] { return acquired.load() == K + 1; }));
        std::this_thread::sleep_for(100ms);
        CHECK(acquired.load() == K + 1);
        CHECK(storage[size_t(K)] == storage[0]);
        // Drain the rest.
        for (int i = 1; i < K; ++i) ring.release(held[size_t(i)]);
        int seen = K;
        while (auto slot = ring.next()) {
            CHECK(slot->layer == seen);
            CHECK(slot->maps[0] == float(seen));
            ring.release(*slot);
            ++seen;
        }
        producer.join();
        CHECK(seen == K + 2);
        CHECK(acquired.load() == K + 2);
        CHECK_FALSE(producer_threw.load());
        CHECK(!watchdog.fired());
    }
}

TEST_CASE("ring: misuse throws headmap::Error") {
    CHECK_THROWS_AS(AttentionRing(0, 16), headmap::Error);
    CHECK_THROWS_AS(AttentionRing(-1, 16), headmap::Error);

    AttentionRing ring(3, 8);
    CHECK_THROWS_AS(ring.acquire(9), headmap::Error);        // larger than a slot
    CHECK_THROWS_AS(ring.publish(0, 1, 1), headmap::Error);  // publish without acquire
    for (int l = 0; l < 3; ++l) {
        ring.acquire(8)[0] = float(l);
        ring.publish(l, 2, 2);
    }
    auto a = ring.next(), b = ring.next(), c = ring.next();
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    REQUIRE(c.has_value());
    CHECK(a->sequence == 0);
    CHECK(b->sequence == 1);
    CHECK(c->sequence == 2);

    SUBCASE("release out of order") {
        CHECK_THROWS_AS(ring.release(*b), headmap::Error);
        CHECK_THROWS_AS(ring.release(*c), headmap::Error);
        ring.release(*a);
        CHECK_THROWS_AS(ring.release(*a), headmap::Error);  // twice
        CHECK_THROWS_AS(ring.release(*c), headmap::Error);
        ring.release(*b);
        ring.release(*c);
    }
    SUBCASE("release of a slot never handed out") {
        AttentionSlot forged = *a;
        forged.sequence = 7;
        CHECK_THROWS_AS(ring.release(forged), headmap::Error);
        ring.release(*a);
        ring.release(*b);
        ring.release(*c);
    }
    // After the failed releases the ring still works.
    ring.acquire(8)[0] = 42.0f;
    ring.publish(3, 2, 2);
    ring.finish();
    auto d = ring.next();
    REQUIRE(d.has_value());
    CHECK(d->layer == 3);
    CHECK(d->sequence == 3);
    CHECK(d->maps[0] == 42.0f);
    ring.release(*d);
    CHECK_FALSE(ring.next().has_value());
}

TEST_CASE("ring: cancel unblocks a waiting producer and a waiting consumer") {
    SUBCASE("blocked acquire throws, next() returns nullopt") {
        AttentionRing ring(1, 4);
        Watchdog watchdog(10s, [] {});
        ring.acquire(4)[0] = 1.0f;
        ring.publish(0, 1, 4);
        std::atomic<int> state{0};  // 1: acquire returned, 2: acquire threw headmap::Error
        std::thread producer([&] {
            try {
                ring.acquire(4);
                state = 1;
            } catch (const headmap::Error&) {
                state = 2;
            } catch (...) {
                state = 3;
            }
        });
        std::this_thread::sleep_for(100ms);
        CHECK(state.load() == 0);  // blocked: the only slot is unreleased
        ring.cancel();
        CHECK(eventually([&] { return state.load() != 0; }));
        CHECK(state.load() == 2);
        producer.join();
        // A published, untaken slot is not delivered after cancel; acquire keeps throwing.
        CHECK_FALSE(ring.next().has_value());
        CHECK_THROWS_AS(ring.acquire(4), headmap::Error);
        CHECK(!watchdog.fired());
    }
    SUBCASE("blocked next() returns nullopt") {
        AttentionRing ring(2, 4);
        Watchdog watchdog(10s, [] {});
        std::atomic<int> state{0};  // 1: got nullopt, 2: got a slot
        std::thread consumer([&] { state = ring.next().has_value() ? 2 : 1; });
        std::this_thread::sleep_for(100ms);
        CHECK(state.load() == 0);
        ring.cancel();
        CHECK(eventually([&] { return state.load() != 0; }));
        CHECK(state.load() == 1);
        consumer.join();
        CHECK(!watchdog.fired());
    }
}

TEST_CASE("ring: reset() starts a new pass") {
    AttentionRing ring(2, 4);
    Watchdog watchdog(10s, [&] { ring.cancel(); });
    // Pass 1: two layers, finished and drained.
    for (int l = 0; l < 2; ++l) {
        ring.acquire(4)[0] = float(l);
        ring.publish(l, 1, 4);
    }
    ring.finish();
    while (auto s = ring.next()) ring.release(*s);
    CHECK_FALSE(ring.next().has_value());

    SUBCASE("after a finished pass") {
        ring.reset();
    }
    SUBCASE("after a cancelled pass") {
        ring.cancel();
        CHECK_THROWS_AS(ring.acquire(4), headmap::Error);
        ring.reset();
    }
    // A consumer of the new pass waits for the first publish instead of seeing "finished".
    std::atomic<int> state{0};
    std::optional<AttentionSlot> got;
    std::thread consumer([&] {
        got = ring.next();
        state = 1;
    });
    std::this_thread::sleep_for(100ms);
    CHECK(state.load() == 0);
    ring.acquire(4)[0] = 5.0f;
    ring.publish(0, 1, 4);
    CHECK(eventually([&] { return state.load() == 1; }));
    consumer.join();
    REQUIRE(got.has_value());
    CHECK(got->layer == 0);
    CHECK(got->sequence == 0);  // numbering restarts
    CHECK(got->maps[0] == 5.0f);
    ring.release(*got);
    ring.finish();
    CHECK_FALSE(ring.next().has_value());
    CHECK(!watchdog.fired());
}

// ------------------------------------------------------------------------------------------------
// Engine::run over the ring

namespace {

struct RunCapture {
    ForwardResult result;
    std::vector<int> layers;
    std::vector<std::vector<float>> maps;
    std::vector<float> hidden;
};

RunCapture run_and_capture(Engine& engine, std::span<const int32_t> ids, bool slow_consumer) {
    RunCapture c;
    ForwardRequest request;
    request.ids = ids;
    request.hidden = true;
    Watchdog watchdog(20s, [&] { engine.ring().cancel(); });
    c.result = engine.run(request, [&](const AttentionSlot& slot) {
        if (slow_consumer) std::this_thread::sleep_for(5ms);
        c.layers.push_back(slot.layer);
        c.maps.emplace_back(slot.maps.begin(), slot.maps.end());
    });
    c.hidden.assign(c.result.hidden.begin(), c.result.hidden.end());
    CHECK(!watchdog.fired());
    return c;
}

}  // namespace

TEST_CASE("engine run: ring sizes 1, 2 and 3 give identical maps") {
    ModelConfig config = tiny_config();
    config.n_layer = 5;
    const auto ids = random_ids(77, config.vocab_size, 4);
    std::vector<RunCapture> runs;
    for (int K : {1, 2, 3})
        for (bool slow : {false, true}) {
            Engine engine = Engine::random(config, 1234, EngineOptions{2, K, 0});
            CHECK(engine.ring().slots() == K);
            runs.push_back(run_and_capture(engine, ids, slow));
            runs.push_back(run_and_capture(engine, ids, !slow));  // the same engine again
        }
    const RunCapture& first = runs.front();
    REQUIRE(first.maps.size() == 5);
    CHECK(first.result.layers_computed == 5);
    CHECK(first.result.maps_published == 5);
    for (size_t r = 0; r < runs.size(); ++r) {
        INFO("run " << r);
        REQUIRE(runs[r].maps.size() == first.maps.size());
        for (size_t l = 0; l < first.maps.size(); ++l) {
            CHECK(runs[r].layers[l] == int(l));
            REQUIRE(runs[r].maps[l].size() == size_t(config.n_head) * 77 * 77);
            CHECK(std::memcmp(runs[r].maps[l].data(), first.maps[l].data(),
                              first.maps[l].size() * sizeof(float)) == 0);
        }
        REQUIRE(runs[r].hidden.size() == first.hidden.size());
        CHECK(std::memcmp(runs[r].hidden.data(), first.hidden.data(),
                          first.hidden.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("engine run: a consumer exception propagates out of run() without hanging") {
    ModelConfig config = tiny_config();
    config.n_layer = 4;
    const auto ids = random_ids(60, config.vocab_size, 8);
    for (int K : {1, 2, 3})
        for (int throw_on : {0, 1, 3}) {
            INFO("slots=" << K << " consumer throws on layer " << throw_on);
            Engine engine = Engine::random(config, 5, EngineOptions{2, K, 0});
            Watchdog watchdog(20s, [&] { engine.ring().cancel(); });
            ForwardRequest request;
            request.ids = ids;
            std::vector<int> seen;
            bool threw_consumer_failure = false;
            try {
                engine.run(request, [&](const AttentionSlot& slot) {
                    seen.push_back(slot.layer);
                    if (slot.layer == throw_on) throw ConsumerFailure("consumer gave up");
                });
            } catch (const ConsumerFailure& e) {
                threw_consumer_failure = std::string(e.what()) == "consumer gave up";
            } catch (const std::exception& e) {
                FAIL_CHECK("unexpected exception: " << e.what());
            }
            CHECK(threw_consumer_failure);
            CHECK(!watchdog.fired());
            REQUIRE(!seen.empty());
            CHECK(seen.back() == throw_on);
            CHECK(seen.size() == size_t(throw_on) + 1);
            // The engine is usable afterwards.
            int slots = 0;
            const ForwardResult r = engine.run(request, [&](const AttentionSlot&) { ++slots; });
            CHECK(r.maps_published == config.n_layer);
            CHECK(slots == config.n_layer);
        }
}

TEST_CASE("engine run: bad requests throw headmap::Error without hanging") {
    const ModelConfig config = tiny_config();
    Engine engine = Engine::random(config, 9, EngineOptions{2, 2, 50});
    CHECK(engine.max_seq() == 50);
    Watchdog watchdog(30s, [&] { engine.ring().cancel(); });
    const std::vector<int32_t> empty, good{1, 2, 3}, too_big{1, config.vocab_size, 3},
        negative{5, -1};
    const std::vector<int32_t> too_long = random_ids(51, config.vocab_size, 1);
    const std::vector<int32_t> longest = random_ids(50, config.vocab_size, 1);
    const std::vector<uint8_t> short_emit{1, 1};
    struct Bad {
        const char* what;
        std::span<const int32_t> ids;
        std::span<const uint8_t> emit;
    };
    const Bad bad[] = {{"empty ids", empty, {}},
                       {"id == vocab", too_big, {}},
                       {"negative id", negative, {}},
                       {"longer than max_seq", too_long, {}},
                       {"emit_layers of the wrong length", good, short_emit}};
    for (const Bad& b : bad) {
        INFO(b.what);
        for (Backend backend : {Backend::Fast, Backend::Reference}) {
            ForwardRequest request;
            request.ids = b.ids;
            request.emit_layers = b.emit;
            request.backend = backend;
            int consumed = 0;
            CHECK_THROWS_AS(engine.run(request, [&](const AttentionSlot&) { ++consumed; }),
                            headmap::Error);
            CHECK(consumed == 0);
        }
        // forward() on its own also finishes the ring, so a waiting consumer is released.
        engine.ring().reset();
        std::atomic<int> consumer_done{0};
        std::thread consumer([&] {
            while (auto s = engine.ring().next()) engine.ring().release(*s);
            consumer_done = 1;
        });
        ForwardRequest request;
        request.ids = b.ids;
        request.emit_layers = b.emit;
        CHECK_THROWS_AS(engine.forward(request), headmap::Error);
        CHECK(eventually([&] { return consumer_done.load() == 1; }));
        if (consumer_done.load() != 1) engine.ring().cancel();
        consumer.join();
    }
    // The longest allowed request still works after all of that.
    ForwardRequest ok;
    ok.ids = longest;
    int slots = 0;
    CHECK(
        engine.run(ok, [&](const AttentionSlot& s) { slots += s.seq_len == 50; }).maps_published ==
        3);
    CHECK(slots == 3);
    CHECK(!watchdog.fired());
}

TEST_CASE("engine options: ring size, thread count and max_seq") {
    const ModelConfig config = tiny_config();
    CHECK_THROWS_AS(Engine::random(config, 1, EngineOptions{1, 0, 0}), headmap::Error);
    Engine a = Engine::random(config, 1, EngineOptions{3, 4, 0});
    CHECK(a.threads() == 3);
    CHECK(a.ring().slots() == 4);
    CHECK(a.max_seq() == config.max_positions);
    CHECK(a.ring().floats_per_slot() == size_t(config.n_head) * 200 * 200);
    Engine b = Engine::random(config, 1, EngineOptions{1, 1, 5000});  // clamped to max_positions
    CHECK(b.max_seq() == config.max_positions);
    CHECK(b.threads() == 1);
    // A single-threaded engine with a single slot still streams every layer.
    const auto ids = random_ids(config.max_positions, config.vocab_size, 3);
    const RunCapture one = run_and_capture(b, ids, false);
    const RunCapture three = run_and_capture(a, ids, false);
    REQUIRE(one.maps.size() == 3);
    REQUIRE(three.maps.size() == 3);
    for (size_t l = 0; l < 3; ++l) {
        double worst = 0;
        for (size_t i = 0; i < one.maps[l].size(); ++i)
            worst = std::max(worst, double(std::fabs(one.maps[l][i] - three.maps[l][i])));
        INFO("layer " << l << " 1 thread vs 3 threads max_abs=" << worst);
        CHECK(worst <= 1e-6);  // different sgemm slicing, same math
    }
}