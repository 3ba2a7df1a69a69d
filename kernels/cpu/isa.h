// Runtime CPU dispatch: the hot CPU kernels exist once per instruction set (AVX-512, AVX2+FMA and
// a portable build of the same loops), and one table of them is picked at first use from the
// CPU's features.
//
// Why: one binary runs on whatever x86-64 it lands on (the project's machines change vendor and
// vector width from week to week; an installed library cannot be built with -march=native), and
// still uses the widest vectors the CPU has.
//
// How: kernels/cpu/isa/kernels_isa.cpp is compiled once per instruction set, each time into a
// namespace of its own (headmap::cpu::isa_avx512, ...) with that set's -m flags, and exports one
// KernelTable. Nothing outside that namespace may be defined there (an inline function or template
// instantiated with AVX-512 code could be picked by the linker for everyone);
// tools/check_isa_objects.sh checks the objects for it in the test command.
//
// Choice: HEADMAP_CPU=avx512|avx2|scalar forces one (an unknown name, or one this CPU cannot run,
// is a headmap::Error); otherwise the widest the CPU supports. Tests switch with use_kernels().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "kernels/types.h"

namespace headmap::cpu {

constexpr int kPanelWidth = 16;  // output columns per weight panel

// A projection weight seen as panels of 16 output columns: panel p's row k (16 floats, the
// weights of input k for columns 16p..16p+15) starts at data + p * panel_stride + k * row_stride.
// Packed weights (PackedWeight): panel_stride = K * 16, row_stride = 16. A (K, N) weight read in
// place: panel_stride = 16, row_stride = N (N a multiple of 16).
// k_block: the kernels walk K in blocks of this many rows (0: all of K at once). Weights read in
// place have each row in a page of its own; a block's pages stay in the TLB while every panel of
// the block is read, at the price of adding each output tile K / k_block times.
struct PanelWeights {
    const float* data = nullptr;
    size_t panel_stride = 0;
    size_t row_stride = 0;
    int k_block = 0;
};

// out (S, N) = epilogue(in (S, K) · W + bias) for the output columns of panels [p0, p1).
struct LinearPanelsArgs {
    float* out;
    const float* in;
    const float* bias;  // (N) or null
    PanelWeights weight;
    int S, K, N;
    Epilogue epilogue;
};

// One attention-map row's sums over its allowed keys (engine/analysis/head_stats.cpp).
struct RowStatSums {
    double total = 0;     // sum a (0 when column sums are kept: the total comes from those)
    double entropy = 0;   // -sum a ln a
    double distance = 0;  // sum a |i - j|
    float max = 0;        // max(0, entries)
    int64_t below = 0;    // entries < the threshold
};

struct KernelTable {
    const char* name;  // "avx512", "avx2", "scalar"
    // Panels a kernel step covers: thread slices are cut on multiples of it.
    int panel_group;
    // Inputs of up to this many rows run their projections on linear_panels from packed panels,
    // and up to in_place_max_rows from (K, N) weights read in place; longer ones on OpenBLAS.
    // Measured per instruction set against OpenBLAS and each other (GPT-2 and bert-base shapes).
    int panel_max_rows;
    int in_place_max_rows;
    void (*linear_panels)(const LinearPanelsArgs& args, int p0, int p1);
    void (*gelu_tanh)(float* x, int n);  // in place
    void (*gelu_erf)(float* x, int n);   // in place
    void (*exp)(float* x, int n);        // in place, ~2 ulp
    void (*softmax_row)(float* row, int n);
    // out rows [s0, s1) = layernorm(in rows), (S, C) row-major
    void (*layernorm_rows)(float* out, const float* in, const float* weight, const float* bias,
                           int s0, int s1, int C, float eps);
    // Statistics of one map row of `keys` entries: distance[j] = |i - j|; columns (keys), when
    // not null, accumulates the column sums; mass, entropy, weighted are (keys) scratch rows.
    RowStatSums (*row_stats)(const float* row, int keys, const double* distance, float threshold,
                             double* columns, double* mass, double* entropy, double* weighted);
    // Appends the row's entries >= floor to four regions (a quarter of the row each, the last
    // also takes the remainder), advancing count[r]; each region needs room for its part.
    void (*copy_at_least)(const float* row, int keys, float floor, float* const* region,
                          size_t* count);
};

// The table in use: chosen on first call (HEADMAP_CPU, else the widest supported).
const KernelTable& kernels();
// Every table this CPU can run, widest first (tests run each against the reference loops).
std::span<const KernelTable* const> supported_kernels();
// Switches the table in use (tests and benchmarks; not while a forward runs).
void use_kernels(const KernelTable& table);
// The supported table of that name, or null.
const KernelTable* kernels_named(std::string_view name);

// The CPU's model name and the vector extensions the tables care about ("AMD EPYC", "avx2 fma
// avx512f ..."), for benchmark lines.
std::string cpu_model_name();
std::string cpu_vector_extensions();

}  // namespace headmap::cpu
