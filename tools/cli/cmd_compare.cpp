// headmap compare / stability / evolution: views of several maps of the same shape.
//   compare:   two maps (two heads or layers, two texts of the same length, the same text under
//              two models, or two saved files) as IzzyViz circles, or --diff as a signed
//              difference heatmap.
//   stability: n runs' maps (saved files) as a mean background with standard-error circles.
//   evolution: maps over T checkpoints (saved files or model directories) with a sparkline per
//              cell.
#include "headmap/error.hpp"
#include "tools/cli/commands.h"
#include "tools/cli/view_common.h"
#include "viz/views.h"

namespace headmap::cli {
namespace {

struct Picked {
    Maps maps;
    std::vector<float> values;  // (S, S)
    std::string label;          // "<source> L<layer> H<head>"
    std::string where;          // "L<layer> H<head>"
};

Picked pick(const Args& args, const std::string& layer, const std::string& head,
            const std::optional<std::string>& model, const std::optional<std::string>& text,
            const std::optional<std::string>& from) {
    Picked p{load_maps(args, layer, args.flag("truncate"), model, text, from), {}, "", ""};
    if (p.maps.layers.size() != 1) throw Error("--layer takes one layer (got '" + layer + "')");
    p.values = select_map(p.maps, p.maps.layers.front(), head);
    p.where = "L" + std::to_string(p.maps.layers.front()) + " H" + resolve_head(p.maps, head);
    p.label = p.maps.name + " " + p.where;
    return p;
}

void require_same_size(const Picked& a, const Picked& b, const std::string& what) {
    if (a.maps.seq != b.maps.seq)
        throw Error(what + ": the maps differ in size (" + std::to_string(a.maps.seq) + " x " +
                    std::to_string(a.maps.seq) + " and " + std::to_string(b.maps.seq) + " x " +
                    std::to_string(b.maps.seq) + "; expected texts of the same token count)");
}

}  // namespace

int cmd_compare(const Args& args) {
    check_image_output(args);
    // Without a second source the second map is the first one again; with saved maps (--from),
    // --model2 and --text2 have no text or model to run, and used to be ignored in silence.
    if (!args.get("layer2") && !args.get("head2") && !args.get("text2") && !args.get("model2") &&
        !args.get("from2"))
        throw Error(
            "compare needs a second map: give --layer2/--head2, --text2, --model2 or --from2");
    if (args.get("from") && (args.get("model2") || args.get("text2")))
        throw Error(
            "--model2 and --text2 run a model, but --from gives saved maps (expected the second "
            "saved file as --from2, or --layer2/--head2)");
    if (args.flag("diff") && args.flag("signed"))
        throw Error(
            "--signed colours the circles by sign; --diff draws the signed difference already "
            "(expected one of them)");
    const viz::Font font = load_font(args);
    const std::string layer = args.get("layer").value_or("-1");
    const std::string head = args.get("head").value_or("mean");
    const Picked a = pick(args, layer, head, std::nullopt, std::nullopt, std::nullopt);
    const Picked b =
        pick(args, args.get("layer2").value_or(layer), args.get("head2").value_or(head),
             args.get("model2"), args.get("text2"), args.get("from2"));
    require_same_size(a, b, "compare");
    // Two texts of one model share its name: say which text each side is.
    std::string first_label = a.label, second_label = b.label;
    if (args.get("text2") && first_label == second_label) {
        first_label += " (text 1)";
        second_label += " (text 2)";
    }
    // Both texts' tokens on the axes: "first / second" where they differ.
    std::vector<std::string> labels = a.maps.tokens;
    if (b.maps.tokens.size() == labels.size() && b.maps.tokens != labels) {
        for (size_t i = 0; i < labels.size(); ++i) {
            if (b.maps.tokens[i] != labels[i])
                labels[i] =
                    viz::display_token(labels[i]) + " / " + viz::display_token(b.maps.tokens[i]);
        }
    }
    viz::CompareOptions o;
    o.colormap = colormap_option(args);
    o.gamma = gamma_option(args);
    o.scale = args.get_float("circle-scale", 0.01f, 100.0f).value_or(1.0f);
    o.signed_colors = args.flag("signed");
    // Masked where both maps are causal (a causal map's upper triangle is zero by construction).
    o.causal_mask = a.maps.causal && b.maps.causal;
    o.first_name = first_label;
    o.second_name = second_label;
    o.title = args.get("title").value_or(first_label + " vs " + second_label);
    set_axis_labels(args, a.maps, o.x_label, o.y_label);
    const viz::MapView first{a.values, a.maps.seq, a.maps.seq};
    const viz::MapView second{b.values, b.maps.seq, b.maps.seq};
    const viz::Scene scene = args.flag("diff")
                                 ? viz::difference(font, first, second, labels, labels, o)
                                 : viz::compare(font, first, second, labels, labels, o);
    write_view(args, scene, font);
    return 0;
}

namespace {

// The maps of several sources (files, or model directories with --text), one (S, S) map each.
std::vector<Picked> pick_series(const Args& args, const std::string& command, size_t minimum) {
    const std::vector<std::string> files = args.get_all("from");
    const std::vector<std::string> models = args.get_all("model");
    if (!files.empty() && !models.empty())
        throw Error(command +
                    ": pass saved maps (--from, repeated) or checkpoints (--model, "
                    "repeated, with --text), not both");
    const std::string layer = args.get("layer").value_or("-1");
    const std::string head = args.get("head").value_or("mean");
    std::vector<Picked> series;
    for (const std::string& file : files)
        series.push_back(pick(args, layer, head, std::nullopt, std::nullopt, file));
    for (const std::string& model : models)
        series.push_back(pick(args, layer, head, model, std::nullopt, std::nullopt));
    if (series.size() < minimum)
        throw Error(command + " needs at least " + std::to_string(minimum) +
                    " maps (repeat --from FILE" +
                    (command == "evolution" ? std::string(" or --model DIR") : std::string()) +
                    "), got " + std::to_string(series.size()));
    for (const Picked& p : series) require_same_size(series.front(), p, command);
    return series;
}

bool all_causal(const std::vector<Picked>& series) {
    for (const Picked& p : series)
        if (!p.maps.causal) return false;
    return true;
}

std::vector<viz::MapView> views_of(const std::vector<Picked>& series) {
    std::vector<viz::MapView> views;
    for (const Picked& p : series) views.push_back({p.values, p.maps.seq, p.maps.seq});
    return views;
}

}  // namespace

int cmd_stability(const Args& args) {
    check_image_output(args);
    if (!args.get_all("model").empty())
        throw Error("stability reads n runs' saved maps: repeat --from FILE (not --model)");
    const viz::Font font = load_font(args);
    const std::vector<Picked> runs = pick_series(args, "stability", 2);
    const std::vector<viz::MapView> views = views_of(runs);
    viz::StabilityOptions o;
    o.colormap = colormap_option(args);
    o.gamma = gamma_option(args);
    o.use_std = args.flag("std");
    o.from_white = args.flag("from-white");
    o.causal_mask = all_causal(runs);
    o.title = args.get("title").value_or(runs.front().maps.name + " " + runs.front().where +
                                         ": stability over " + std::to_string(runs.size()) +
                                         " runs (" + (o.use_std ? "std" : "standard error") + ")");
    set_axis_labels(args, runs.front().maps, o.x_label, o.y_label);
    const auto& tokens = runs.front().maps.tokens;
    write_view(args, viz::stability(font, views, tokens, tokens, o), font);
    return 0;
}

int cmd_evolution(const Args& args) {
    check_image_output(args);
    const viz::Font font = load_font(args);
    const std::vector<Picked> steps = pick_series(args, "evolution", 2);
    const std::vector<viz::MapView> views = views_of(steps);
    viz::EvolutionOptions o;
    o.colormap = colormap_option(args);
    o.gamma = gamma_option(args);
    o.per_cell = args.flag("per-cell");
    o.causal_mask = all_causal(steps);
    o.title = args.get("title").value_or(steps.front().maps.name + " " + steps.front().where +
                                         ": evolution over " + std::to_string(steps.size()) +
                                         " checkpoints");
    set_axis_labels(args, steps.front().maps, o.x_label, o.y_label);
    const auto& tokens = steps.front().maps.tokens;
    write_view(args, viz::evolution(font, views, tokens, tokens, o), font);
    return 0;
}

}  // namespace headmap::cli
