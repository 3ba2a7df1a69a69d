// Modularity by layer (seed 004) as a chart, shared by headmap modularity and headmap report.
#pragma once

#include <string>
#include <vector>

#include "engine/analysis/modularity.h"
#include "viz/font.h"
#include "viz/scene.h"

namespace headmap::cli {

struct HeadResult {
    int layer = 0, head = 0;
    analysis::Communities communities;
};

// Every head as a point at x = layer, and a line through each layer's mean.
viz::Scene modularity_chart(const viz::Font& font, const std::vector<HeadResult>& results,
                            const std::vector<int>& layers, const std::string& title);

}  // namespace headmap::cli
