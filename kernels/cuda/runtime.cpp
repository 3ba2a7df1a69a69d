#include "kernels/cuda/runtime.h"

#include <cstdio>

#include "headmap/error.hpp"

namespace headmap::cuda {

int device_count(std::string* why) {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
        if (why) *why = cudaGetErrorString(status);
        cudaGetLastError();  // clear the sticky error so later calls see a clean state
        return 0;
    }
    if (count == 0 && why) *why = "the CUDA runtime reports no devices";
    return count;
}

std::string device_description(int device) {
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    char text[320];
    std::snprintf(text, sizeof text, "%s (sm_%d%d, %.1f GiB)", prop.name, prop.major, prop.minor,
                  double(prop.totalGlobalMem) / double(1u << 30));
    return text;
}

void check(cudaError_t status, const char* what) {
    if (status == cudaSuccess) return;
    std::string message = "CUDA error in ";
    message += what;
    message += ": ";
    message += cudaGetErrorString(status);
    throw Error(message);
}

void check_launch(const char* kernel) {
    check(cudaGetLastError(), kernel);
}

Stream::Stream() {
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
}

Stream::~Stream() {
    if (stream_) cudaStreamDestroy(stream_);
}

void Stream::synchronize() const {
    check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
}

Event::Event(bool timing) {
    check(cudaEventCreateWithFlags(&event_, timing ? cudaEventDefault : cudaEventDisableTiming),
          "cudaEventCreate");
}

Event::~Event() {
    if (event_) cudaEventDestroy(event_);
}

void Event::record(cudaStream_t stream) const {
    check(cudaEventRecord(event_, stream), "cudaEventRecord");
}

void Event::synchronize() const {
    check(cudaEventSynchronize(event_), "cudaEventSynchronize");
}

float Event::milliseconds_since(const Event& start) const {
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start.event_, event_), "cudaEventElapsedTime");
    return ms;
}

}  // namespace headmap::cuda
