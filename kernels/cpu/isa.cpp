// Picks the kernel table (kernels/cpu/isa.h) from the CPU's features and HEADMAP_CPU.
#include "kernels/cpu/isa.h"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <vector>

#include "headmap/error.hpp"

namespace headmap::cpu {

#define HEADMAP_DECLARE_ISA(ns)     \
    namespace ns {                  \
    extern const KernelTable table; \
    }
HEADMAP_DECLARE_ISA(isa_scalar)
#if HEADMAP_HAVE_ISA_AVX2
HEADMAP_DECLARE_ISA(isa_avx2)
#endif
#if HEADMAP_HAVE_ISA_AVX512
HEADMAP_DECLARE_ISA(isa_avx512)
#endif
#undef HEADMAP_DECLARE_ISA

namespace {

bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

bool cpu_has_avx512() {
#if defined(__x86_64__) || defined(__i386__)
    // The set is compiled with -mavx512f/vl/bw/dq (kernels/CMakeLists.txt), so the compiler may
    // use any of them; __builtin_cpu_supports also checks that the OS saves the zmm state.
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           cpu_has_avx2();
#else
    return false;
#endif
}

// Widest first.
std::vector<const KernelTable*> detect() {
    std::vector<const KernelTable*> tables;
#if HEADMAP_HAVE_ISA_AVX512
    if (cpu_has_avx512()) tables.push_back(&isa_avx512::table);
#endif
#if HEADMAP_HAVE_ISA_AVX2
    if (cpu_has_avx2()) tables.push_back(&isa_avx2::table);
#endif
    tables.push_back(&isa_scalar::table);
    return tables;
}

const std::vector<const KernelTable*>& supported() {
    static const std::vector<const KernelTable*> tables = detect();
    return tables;
}

const KernelTable& choose() {
    const char* forced = std::getenv("HEADMAP_CPU");
    if (!forced || !*forced) return *supported().front();
    if (const KernelTable* table = kernels_named(forced)) return *table;
    std::string names;
    for (const KernelTable* table : supported())
        names += std::string(names.empty() ? "" : ", ") + table->name;
    const std::string_view name = forced;
    const bool known = name == "avx512" || name == "avx2" || name == "scalar";
    throw Error("HEADMAP_CPU=" + std::string(name) + ": " +
                    (known ? "this CPU (or this build) cannot run it" : "no such kernel set") +
                    " (expected one of: " + names + ")",
                Status::BadArgument);
}

std::atomic<const KernelTable*> current{nullptr};
std::mutex choose_mutex;

}  // namespace

const KernelTable& kernels() {
    if (const KernelTable* table = current.load(std::memory_order_acquire)) return *table;
    std::lock_guard lock(choose_mutex);
    if (const KernelTable* table = current.load(std::memory_order_relaxed)) return *table;
    const KernelTable& table =
        choose();  // throws on a bad HEADMAP_CPU, and chooses again next call
    current.store(&table, std::memory_order_release);
    return table;
}

std::span<const KernelTable* const> supported_kernels() {
    return supported();
}

void use_kernels(const KernelTable& table) {
    current.store(&table, std::memory_order_release);
}

const KernelTable* kernels_named(std::string_view name) {
    for (const KernelTable* table : supported())
        if (name == table->name) return table;
    return nullptr;
}

std::string cpu_model_name() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line))
        if (line.starts_with("model name")) {
            const size_t colon = line.find(':');
            if (colon != std::string::npos) {
                size_t start = line.find_first_not_of(" \t", colon + 1);
                return start == std::string::npos ? "" : line.substr(start);
            }
        }
    return "unknown";
}

std::string cpu_vector_extensions() {
    std::string out;
#if defined(__x86_64__) || defined(__i386__)
    const auto add = [&](const char* name, bool present) {
        if (present) out += std::string(out.empty() ? "" : " ") + name;
    };
    add("sse4.2", __builtin_cpu_supports("sse4.2"));
    add("avx", __builtin_cpu_supports("avx"));
    add("avx2", __builtin_cpu_supports("avx2"));
    add("fma", __builtin_cpu_supports("fma"));
    add("avx512f", __builtin_cpu_supports("avx512f"));
    add("avx512bw", __builtin_cpu_supports("avx512bw"));
    add("avx512vl", __builtin_cpu_supports("avx512vl"));
    add("avx512bf16", __builtin_cpu_supports("avx512bf16"));
#endif
    return out;
}

}  // namespace headmap::cpu
