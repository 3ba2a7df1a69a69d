// Helpers shared by the viz suites (test_viz_*.cpp): the default font, picking items of one kind
// out of a scene, finding a text, and checking that everything drawn lies inside the scene.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <variant>
#include <vector>

#include "tools/viz_io.h"
#include "viz/font.h"
#include "viz/scene.h"

namespace viz_test {

using namespace headmap::viz;

inline const Font& font() {
    static const Font f = headmap::viz_io::load_font();
    return f;
}

template <class T>
std::vector<const T*> items_of(const Scene& scene) {
    std::vector<const T*> out;
    for (const Item& item : scene.items)
        if (const T* p = std::get_if<T>(&item)) out.push_back(p);
    return out;
}

inline const TextItem* find_text(const Scene& scene, const std::string& text) {
    for (const TextItem* t : items_of<TextItem>(scene))
        if (t->utf8 == text) return t;
    return nullptr;
}

// Every rectangle, text and circle lies inside the scene (text measured with the same font;
// rotated text runs along its rotation).
inline void check_inside(const Scene& scene) {
    const float eps = 0.75f;
    for (const Item& item : scene.items) {
        if (const auto* r = std::get_if<RectItem>(&item)) {
            CHECK(r->x >= -eps);
            CHECK(r->y >= -eps);
            CHECK(r->x + r->w <= scene.width + eps);
            CHECK(r->y + r->h <= scene.height + eps);
        } else if (const auto* t = std::get_if<TextItem>(&item)) {
            const float w = font().text_width(t->utf8, t->size, t->bold);
            const float rad = t->rotation_deg * 3.14159265f / 180;
            const float dx = std::cos(rad), dy = std::sin(rad);
            float along0 = 0, along1 = w;
            if (t->anchor == Anchor::Middle) along0 = -w / 2, along1 = w / 2;
            if (t->anchor == Anchor::End) along0 = -w, along1 = 0;
            for (float a : {along0, along1}) {
                INFO("text '" << t->utf8 << "'");
                CHECK(t->x + a * dx >= -eps);
                CHECK(t->y + a * dy >= -eps);
                CHECK(t->x + a * dx <= scene.width + eps);
                CHECK(t->y + a * dy <= scene.height + eps);
            }
        } else if (const auto* c = std::get_if<CircleItem>(&item)) {
            CHECK(c->cx - c->r >= -eps);
            CHECK(c->cy - c->r >= -eps);
            CHECK(c->cx + c->r <= scene.width + eps);
            CHECK(c->cy + c->r <= scene.height + eps);
        }
    }
}

}  // namespace viz_test
