// Helpers shared by the ring and allocation suites (test_ring.cpp, test_forward_no_alloc.cpp):
// polling with a deadline, a watchdog that keeps a stuck section from hanging the suite, and
// random token ids.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace ring_test {

using namespace std::chrono_literals;

// Polls `pred` until it holds or `timeout` passes; returns its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return pred();
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

// Bounds a test section: after `limit` it runs `on_timeout` (typically ring.cancel(), which must
// unblock both sides); if the section is still stuck 20 s later the process exits, so a bug can
// fail the suite but never hang it. Waiting allocates nothing.
class Watchdog {
  public:
    Watchdog(std::chrono::milliseconds limit, std::function<void()> on_timeout)
        : on_timeout_(std::move(on_timeout)), thread_([this, limit] { watch(limit); }) {}
    ~Watchdog() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    bool fired() const { return fired_.load(); }

  private:
    void watch(std::chrono::milliseconds limit) {
        std::unique_lock lock(mutex_);
        if (cv_.wait_for(lock, limit, [&] { return done_; })) return;
        fired_ = true;
        lock.unlock();
        on_timeout_();
        lock.lock();
        if (cv_.wait_for(lock, 20s, [&] { return done_; })) return;
        std::fprintf(stderr, "test_ring: section still hung 20 s after its watchdog fired\n");
        std::fflush(stderr);
        std::_Exit(3);
    }
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::atomic<bool> fired_{false};
    std::function<void()> on_timeout_;
    std::thread thread_;
};

inline std::vector<int32_t> random_ids(int n, int vocab, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int32_t> dist(0, vocab - 1);
    std::vector<int32_t> ids(static_cast<size_t>(n));
    for (auto& id : ids) id = dist(rng);
    return ids;
}

}  // namespace ring_test
