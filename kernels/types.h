// Small enums shared by the kernels and the engine's architecture table.
#pragma once

namespace headmap {

// Conv1D (GPT-2) stores a projection's weight as (in, out); nn.Linear stores (out, in).
enum class WeightLayout { InOut, OutIn };

enum class Activation { GeluTanh, GeluErf };

}  // namespace headmap
