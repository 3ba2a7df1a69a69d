// A fixed pool of worker threads that runs indexed tasks. It is the only source of parallelism
// in the CPU backend (OpenBLAS is kept single-threaded), so two runtimes never spin against each
// other on small machines. run() allocates nothing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace headmap::cpu {

class ThreadPool {
  public:
    explicit ThreadPool(int threads);  // total threads including the caller
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return static_cast<int>(workers_.size()) + 1; }

    // Calls fn(task, thread) for every task in [0, n_tasks); thread is in [0, size()).
    // The caller takes part and returns when every task has finished.
    template <class Fn>
    void run(int n_tasks, Fn&& fn) {
        run_erased(
            n_tasks,
            [](void* ctx, int task, int thread) {
                (*static_cast<std::remove_reference_t<Fn>*>(ctx))(task, thread);
            },
            &fn);
    }

  private:
    using TaskFn = void (*)(void* ctx, int task, int thread);
    void run_erased(int n_tasks, TaskFn fn, void* ctx);
    void worker_loop(int thread);
    void take_tasks(int thread);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable start_cv_, done_cv_;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> next_task_{0};
    std::atomic<int> busy_workers_{0};
    int n_tasks_ = 0;
    TaskFn fn_ = nullptr;
    void* ctx_ = nullptr;
    bool stopping_ = false;
};

}  // namespace headmap::cpu
