#include "tokenizer/gpt2_pretokenize.h"

#include <cstddef>

#include "tokenizer/unicode_tables.h"
#include "tokenizer/utf8.h"

namespace headmap {

namespace {

enum class CharClass : unsigned char { kLetter, kNumber, kWhiteSpace, kOther };

CharClass classify(char32_t code_point) {
    // ASCII is most of real text; skip the binary searches for it.
    if (code_point < 0x80) {
        const auto c = static_cast<char>(code_point);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return CharClass::kLetter;
        if (c >= '0' && c <= '9') return CharClass::kNumber;
        if (c == ' ' || (c >= '\t' && c <= '\r')) return CharClass::kWhiteSpace;
        return CharClass::kOther;
    }
    if (unicode::is_letter(code_point)) return CharClass::kLetter;
    if (unicode::is_number(code_point)) return CharClass::kNumber;
    if (unicode::is_white_space(code_point)) return CharClass::kWhiteSpace;
    return CharClass::kOther;
}

// The matcher works on code point indices; `classes[i]` is the class of the i-th code point.
class Matcher {
  public:
    Matcher(const std::vector<utf8::DecodedChar>& chars, const std::vector<CharClass>& classes)
        : chars_(chars), classes_(classes) {}

    // Length in code points of the match starting at `start` (always >= 1).
    std::size_t match_at(std::size_t start) const {
        if (std::size_t length = contraction(start)) return length;
        for (CharClass run_class : {CharClass::kLetter, CharClass::kNumber, CharClass::kOther}) {
            if (std::size_t length = optional_space_then_run(start, run_class)) return length;
        }
        // Only white space is left: `\s+(?!\S)` then `\s+`.
        const std::size_t run_end = run_end_of(start, CharClass::kWhiteSpace);
        const std::size_t run_length = run_end - start;
        if (run_end == chars_.size()) return run_length;
        // A non-space follows. Backtracking `\s+` by one character satisfies (?!\S) because the
        // character after the shortened run is white space; that needs a run of at least two.
        // Otherwise the plain `\s+` alternative takes the whole (single-character) run.
        return run_length >= 2 ? run_length - 1 : run_length;
    }

  private:
    // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive, ASCII apostrophe only).
    std::size_t contraction(std::size_t start) const {
        if (chars_[start].code_point != U'\'' || start + 1 >= chars_.size()) return 0;
        const char32_t first = chars_[start + 1].code_point;
        if (first == U's' || first == U't' || first == U'm' || first == U'd') return 2;
        if (start + 2 >= chars_.size()) return 0;
        const char32_t second = chars_[start + 2].code_point;
        if ((first == U'r' && second == U'e') || (first == U'v' && second == U'e') ||
            (first == U'l' && second == U'l')) {
            return 3;
        }
        return 0;
    }

    // ` ?X+` where X is `run_class` (kOther stands for [^\s\p{L}\p{N}]).
    std::size_t optional_space_then_run(std::size_t start, CharClass run_class) const {
        std::size_t run_start = start;
        if (chars_[start].code_point == U' ' && start + 1 < chars_.size() &&
            classes_[start + 1] == run_class) {
            run_start = start + 1;
        }
        // Without the space (or when the space is not followed by the class) the run must
        // start at `start` itself; a space is white space so it never starts such a run.
        if (classes_[run_start] != run_class) return 0;
        return run_end_of(run_start, run_class) - start;
    }

    std::size_t run_end_of(std::size_t pos, CharClass run_class) const {
        while (pos < chars_.size() && classes_[pos] == run_class) ++pos;
        return pos;
    }

    const std::vector<utf8::DecodedChar>& chars_;
    const std::vector<CharClass>& classes_;
};

}  // namespace

std::vector<std::string_view> gpt2_pretokenize(std::string_view valid_utf8) {
    const std::vector<utf8::DecodedChar> chars = utf8::decode_valid(valid_utf8);
    std::vector<CharClass> classes;
    classes.reserve(chars.size());
    for (const auto& decoded : chars) classes.push_back(classify(decoded.code_point));

    const Matcher matcher(chars, classes);
    std::vector<std::string_view> pieces;
    std::size_t start = 0;
    while (start < chars.size()) {
        const std::size_t end = start + matcher.match_at(start);
        const std::size_t byte_begin = chars[start].byte_offset;
        const std::size_t byte_end =
            end < chars.size() ? chars[end].byte_offset : valid_utf8.size();
        pieces.push_back(valid_utf8.substr(byte_begin, byte_end - byte_begin));
        start = end;
    }
    return pieces;
}

}  // namespace headmap
