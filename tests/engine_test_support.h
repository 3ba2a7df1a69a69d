// Shapes shared by the engine test suites.
#pragma once

#include "engine/config.h"

namespace engine_test {

// A tiny GPT-2-shaped model: 3 layers, 4 heads of 8, 200 positions, vocab 1000.
inline headmap::ModelConfig tiny_config() {
    headmap::ModelConfig c;
    c.model_type = "gpt2";
    c.n_layer = 3;
    c.n_head = 4;
    c.d_model = 32;
    c.d_ff = 128;
    c.max_positions = 200;
    c.vocab_size = 1000;
    c.norm_eps = 1e-5f;
    c.activation = headmap::Activation::GeluTanh;
    return c;
}

}  // namespace engine_test
