#include "kernels/cpu/thread_pool.h"

#include <type_traits>

namespace headmap::cpu {
namespace {
// Workers spin this many times before sleeping: layers issue a few parallel regions each, and a
// short spin avoids a futex wake-up per region without burning a core between forwards.
constexpr int kSpinIterations = 20000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
}  // namespace

ThreadPool::ThreadPool(int threads) {
    for (int t = 1; t < threads; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        generation_.fetch_add(1);
    }
    start_cv_.notify_all();
    for (auto& w : workers_) w.join();
}

void ThreadPool::take_tasks(int thread) {
    for (int task = next_task_.fetch_add(1); task < n_tasks_; task = next_task_.fetch_add(1))
        fn_(ctx_, task, thread);
}

void ThreadPool::run_erased(int n_tasks, TaskFn fn, void* ctx) {
    if (n_tasks <= 0) return;
    if (workers_.empty() || n_tasks == 1) {
        for (int task = 0; task < n_tasks; ++task) fn(ctx, task, 0);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        n_tasks_ = n_tasks;
        fn_ = fn;
        ctx_ = ctx;
        next_task_.store(0);
        busy_workers_.store(static_cast<int>(workers_.size()));
        generation_.fetch_add(1);
    }
    start_cv_.notify_all();
    take_tasks(0);
    for (int spin = 0; busy_workers_.load() != 0 && spin < kSpinIterations; ++spin) cpu_relax();
    if (busy_workers_.load() != 0) {
        std::unique_lock lock(mutex_);
        done_cv_.wait(lock, [this] { return busy_workers_.load() == 0; });
    }
}

void ThreadPool::worker_loop(int thread) {
    uint64_t seen = 0;
    for (;;) {
        for (int spin = 0; generation_.load() == seen && spin < kSpinIterations; ++spin)
            cpu_relax();
        {
            std::unique_lock lock(mutex_);
            start_cv_.wait(lock, [&] { return generation_.load() != seen; });
            seen = generation_.load();
            if (stopping_) return;
        }
        take_tasks(thread);
        if (busy_workers_.fetch_sub(1) == 1) {
            std::lock_guard lock(mutex_);
            done_cv_.notify_one();
        }
    }
}

}  // namespace headmap::cpu
