// CudaForward and bench_attention_kernels as a proxy: the CUDA backend lives in
// libheadmap_cuda.so (engine/cuda_module.h), opened here the first time a CUDA device is asked
// for, so that processes which never use one load neither cudart nor cuBLAS.
#include "engine/cuda_forward.h"

#include "engine/cuda_kernel_bench.h"
#include "engine/engine.h"
#include "headmap/error.hpp"

#if HEADMAP_HAVE_CUDA

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <vector>

#include "engine/cuda_module.h"

namespace headmap {
namespace {

namespace fs = std::filesystem;

struct Module {
    const CudaModuleApi* api = nullptr;
    std::string why;  // when api is null
};

// Where the module may lie, first match wins: beside the library holding this code (an
// embedder's libheadmap.so), in the lib directory beside the running program's bin (build/bin
// and an installed bin), then by its plain name (LD_LIBRARY_PATH, the loader's cache).
std::vector<std::string> module_candidates() {
    std::vector<std::string> paths;
    const auto add = [&](const fs::path& dir) {
        if (dir.empty()) return;
        std::error_code ec;
        const fs::path file = fs::weakly_canonical(dir / kCudaModuleFile, ec);
        if (!ec && fs::exists(file, ec) &&
            std::find(paths.begin(), paths.end(), file) == paths.end())
            paths.push_back(file.string());
    };
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&CudaForward::available), &info) != 0 && info.dli_fname)
        add(fs::path(info.dli_fname).parent_path());
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        add(exe.parent_path() / ".." / "lib");
        add(exe.parent_path() / ".." / HEADMAP_INSTALL_LIBDIR);
    }
    paths.emplace_back(std::string_view(kCudaModuleFile));  // by name: the loader's search path
    return paths;
}

Module open_module() {
    Module m;
    std::string errors;
    for (const std::string& path : module_candidates()) {
        void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            const char* error = dlerror();
            errors += (errors.empty() ? "" : "; ") + std::string(error ? error : path);
            continue;
        }
        using Entry = const CudaModuleApi* (*)();
        const auto entry = reinterpret_cast<Entry>(dlsym(handle, kCudaModuleEntry));
        const CudaModuleApi* api = entry ? entry() : nullptr;
        if (api && api->abi == kCudaModuleAbi && api->layout == cuda_module_layout()) {
            m.api = api;  // stays loaded for the life of the process
            return m;
        }
        errors += (errors.empty() ? "" : "; ") + path + " is from another headmap build";
        dlclose(handle);
    }
    m.why = "the CUDA backend " + std::string(kCudaModuleFile) + " could not be loaded (" + errors +
            "; a CUDA build makes it with its headmap_cuda target)";
    return m;
}

// Opened once per process, on first use; thread-safe (a function-local static).
const CudaModuleApi* module(std::string* why) {
    static const Module m = open_module();
    if (!m.api && why) *why = m.why;
    return m.api;
}

const CudaModuleApi& require_module() {
    std::string why;
    const CudaModuleApi* api = module(&why);
    if (!api) throw Error("the CUDA backend is not available: " + why, Status::NoDevice);
    return *api;
}

}  // namespace

bool CudaForward::available(std::string* why) {
    const CudaModuleApi* api = module(why);
    return api && api->available(why);
}

CudaForward::CudaForward(const ModelConfig& config, const ArchSpec& arch,
                         const ModelWeights& weights, int max_seq, int ring_slots, bool fast)
    : api_(&require_module()),
      state_(api_->create(config, arch, weights, max_seq, ring_slots, fast)) {}

CudaForward::~CudaForward() {
    if (state_) api_->destroy(state_);
}

std::span<float> CudaForward::ring_storage() {
    return api_->ring_storage(*state_);
}

std::string CudaForward::device() const {
    return api_->device(*state_);
}

ForwardResult CudaForward::forward(const ForwardRequest& request, int last_layer,
                                   AttentionRing& ring, std::span<float> hidden_host,
                                   std::span<float> tap_host) {
    return api_->forward(*state_, request, last_layer, ring, hidden_host, tap_host);
}

void CudaForward::set_timing(bool on) {
    api_->set_timing(*state_, on);
}

CudaTiming CudaForward::last_timing() const {
    return api_->last_timing(*state_);
}

CudaBandwidth CudaForward::measure_bandwidth(size_t bytes) {
    return require_module().measure_bandwidth(bytes);
}

AttentionKernelTimes bench_attention_kernels(const AttentionShape& shape, int runs) {
    return require_module().bench_attention_kernels(shape, runs);
}

}  // namespace headmap

#else  // built without the CUDA toolkit

namespace headmap {

bool CudaForward::available(std::string* why) {
    if (why) *why = "this headmap was built without CUDA (no nvcc found at configure time)";
    return false;
}

CudaForward::CudaForward(const ModelConfig&, const ArchSpec&, const ModelWeights&, int, int, bool) {
    throw Error(
        "a CUDA device was asked for, but this headmap was built without CUDA (rebuild "
        "where nvcc is found)",
        Status::NoDevice);
}

CudaForward::~CudaForward() = default;
std::span<float> CudaForward::ring_storage() {
    return {};
}
std::string CudaForward::device() const {
    return {};
}
ForwardResult CudaForward::forward(const ForwardRequest&, int, AttentionRing&, std::span<float>,
                                   std::span<float>) {
    throw Error("a CUDA device was asked for, but this headmap was built without CUDA",
                Status::NoDevice);
}
void CudaForward::set_timing(bool) {}
CudaTiming CudaForward::last_timing() const {
    return {};
}
CudaBandwidth CudaForward::measure_bandwidth(size_t) {
    throw Error("a CUDA device was asked for, but this headmap was built without CUDA",
                Status::NoDevice);
}
AttentionKernelTimes bench_attention_kernels(const AttentionShape&, int) {
    throw Error("a CUDA device was asked for, but this headmap was built without CUDA",
                Status::NoDevice);
}

}  // namespace headmap

#endif
