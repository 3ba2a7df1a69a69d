// Small enums and shapes shared by the CPU and CUDA kernels and the engine's architecture table.
#pragma once

namespace headmap {

// Conv1D (GPT-2) stores a projection's weight as (in, out); nn.Linear stores (out, in).
enum class WeightLayout { InOut, OutIn };

enum class Activation { GeluTanh, GeluErf };

// What a linear does with its result.
enum class Epilogue {
    Store,       // out = in·W + b
    Accumulate,  // out += in·W + b   (fuses the residual add)
    GeluTanh,    // out = gelu_tanh(in·W + b)
    GeluErf,     // out = gelu_erf(in·W + b)
};

inline Epilogue gelu_epilogue(Activation activation) {
    return activation == Activation::GeluTanh ? Epilogue::GeluTanh : Epilogue::GeluErf;
}

// Attention geometry. Q, K and V are read in place from the fused projection output
// qkv (S, 3C): Q at column 0, K at column C, V at column 2C; head h uses columns h*D..(h+1)*D.
struct AttentionShape {
    int seq;       // S
    int n_head;    // H
    int head_dim;  // D; C = H*D
    bool causal;
};

}  // namespace headmap
