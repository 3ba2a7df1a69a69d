// CUDA runtime helpers: device discovery that reports "no device" as a value, error checks that
// throw headmap::Error with the call's name, and RAII owners of device, pinned host, stream and
// event handles. Plain C++ (compiled by g++ or nvcc).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <utility>

namespace headmap::cuda {

// Usable CUDA devices; 0 when there is none, with the runtime's reason in *why (no driver, no
// GPU). Never throws.
int device_count(std::string* why = nullptr);
// "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)"
std::string device_description(int device);

// Throws headmap::Error("CUDA error in <what>: <runtime message>") unless status is cudaSuccess.
void check(cudaError_t status, const char* what);
// After a kernel launch: checks cudaGetLastError().
void check_launch(const char* kernel);

// Device memory of n elements of T (uninitialised). Movable, not copyable.
template <class T>
class DeviceBuffer {
  public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(size_t n) : n_(n) {
        if (n) check(cudaMalloc(reinterpret_cast<void**>(&data_), n * sizeof(T)), "cudaMalloc");
    }
    DeviceBuffer(DeviceBuffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), n_(std::exchange(other.n_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(n_, other.n_);
        return *this;
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() {
        if (data_) cudaFree(data_);
    }
    T* data() const { return data_; }
    size_t size() const { return n_; }
    size_t bytes() const { return n_ * sizeof(T); }

  private:
    T* data_ = nullptr;
    size_t n_ = 0;
};

// Page-locked host memory (cudaMallocHost), the source/target of asynchronous copies.
template <class T>
class PinnedBuffer {
  public:
    PinnedBuffer() = default;
    explicit PinnedBuffer(size_t n) : n_(n) {
        if (n)
            check(cudaMallocHost(reinterpret_cast<void**>(&data_), n * sizeof(T)),
                  "cudaMallocHost");
    }
    PinnedBuffer(PinnedBuffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), n_(std::exchange(other.n_, 0)) {}
    PinnedBuffer& operator=(PinnedBuffer&& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(n_, other.n_);
        return *this;
    }
    PinnedBuffer(const PinnedBuffer&) = delete;
    PinnedBuffer& operator=(const PinnedBuffer&) = delete;
    ~PinnedBuffer() {
        if (data_) cudaFreeHost(data_);
    }
    T* data() const { return data_; }
    size_t size() const { return n_; }

  private:
    T* data_ = nullptr;
    size_t n_ = 0;
};

// A non-blocking stream.
class Stream {
  public:
    Stream();
    Stream(Stream&& other) noexcept : stream_(std::exchange(other.stream_, nullptr)) {}
    Stream& operator=(Stream&& other) noexcept {
        std::swap(stream_, other.stream_);
        return *this;
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    ~Stream();
    cudaStream_t get() const { return stream_; }
    void synchronize() const;

  private:
    cudaStream_t stream_ = nullptr;
};

// An event; timing ones measure elapsed milliseconds between two records.
class Event {
  public:
    explicit Event(bool timing = false);
    Event(Event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}
    Event& operator=(Event&& other) noexcept {
        std::swap(event_, other.event_);
        return *this;
    }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    ~Event();
    cudaEvent_t get() const { return event_; }
    void record(cudaStream_t stream) const;
    void synchronize() const;
    float milliseconds_since(const Event& start) const;

  private:
    cudaEvent_t event_ = nullptr;
};

}  // namespace headmap::cuda
