#include "kernels/cpu/blas.h"

#include <cblas.h>
#include <dlfcn.h>

#include <string>

#include "headmap/error.hpp"

namespace headmap::blas {
namespace {

struct Functions {
    decltype(&cblas_sgemm) sgemm = nullptr;
    decltype(&cblas_dgemm) dgemm = nullptr;
    decltype(&openblas_set_num_threads) set_num_threads = nullptr;
};

template <typename T>
T symbol(void* library, const char* name, const std::string& file) {
    void* address = dlsym(library, name);
    if (!address)
        throw Error("the BLAS library " + file + " has no " + name + ": expected OpenBLAS",
                    Status::Unsupported);
    return reinterpret_cast<T>(address);
}

Functions open_openblas() {
    std::string tried;
    for (const char* file : {"libopenblas.so.0", "libopenblas.so"}) {
        // Never closed: OpenBLAS's threads live until the process ends.
        void* library = dlopen(file, RTLD_NOW | RTLD_LOCAL);
        if (!library) {
            const char* why = dlerror();
            tried += std::string(tried.empty() ? "" : "; ") + (why ? why : file);
            continue;
        }
        return {
            symbol<decltype(&cblas_sgemm)>(library, "cblas_sgemm", file),
            symbol<decltype(&cblas_dgemm)>(library, "cblas_dgemm", file),
            symbol<decltype(&openblas_set_num_threads)>(library, "openblas_set_num_threads", file)};
    }
    throw Error("OpenBLAS could not be loaded (" + tried +
                    "): expected libopenblas.so.0 on the library path (Debian: libopenblas0)",
                Status::Unsupported);
}

// A function-local static: loaded once, thread-safe; a failed load throws and is retried next call.
const Functions& functions() {
    static const Functions loaded = open_openblas();
    return loaded;
}

CBLAS_TRANSPOSE cblas(Transpose t) {
    return t == Transpose::Yes ? CblasTrans : CblasNoTrans;
}

}  // namespace

void sgemm(Transpose trans_a, Transpose trans_b, int M, int N, int K, float alpha, const float* A,
           int lda, const float* B, int ldb, float beta, float* C, int ldc) {
    functions().sgemm(CblasRowMajor, cblas(trans_a), cblas(trans_b), M, N, K, alpha, A, lda, B, ldb,
                      beta, C, ldc);
}

void dgemm(Transpose trans_a, Transpose trans_b, int M, int N, int K, double alpha, const double* A,
           int lda, const double* B, int ldb, double beta, double* C, int ldc) {
    functions().dgemm(CblasRowMajor, cblas(trans_a), cblas(trans_b), M, N, K, alpha, A, lda, B, ldb,
                      beta, C, ldc);
}

void set_num_threads(int threads) {
    functions().set_num_threads(threads);
}

void load() {
    functions();
}

}  // namespace headmap::blas
