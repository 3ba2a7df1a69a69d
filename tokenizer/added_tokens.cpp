#include "tokenizer/added_tokens.h"

#include <algorithm>

namespace headmap {

AddedTokenMatcher::AddedTokenMatcher(std::span<const AddedToken> tokens)
    : tokens_(tokens.begin(), tokens.end()) {
    root_edges_.fill(-1);
    std::vector<int32_t> terminal = {-1};  // per node: the token ending there, or -1
    std::vector<std::vector<std::pair<unsigned char, int32_t>>> children(1);
    for (size_t index = 0; index < tokens_.size(); ++index) {
        const std::string& content = tokens_[index].content;
        if (content.empty()) continue;
        by_content_.try_emplace(content, int32_t(index));
        longest_token_ = std::max(longest_token_, content.size());
        int32_t node = 0;
        for (auto it = content.rbegin(); it != content.rend(); ++it) {
            const auto byte = static_cast<unsigned char>(*it);
            contains_byte_[byte] = true;
            int32_t next = child(node, byte);
            if (next < 0) {
                next = int32_t(terminal.size());
                terminal.push_back(-1);
                children.emplace_back();
                children[size_t(node)].push_back({byte, next});
                if (node == 0)
                    root_edges_[byte] = next;
                else
                    edges_.emplace(uint64_t(node) << 8 | byte, next);
            }
            node = next;
        }
        if (terminal[size_t(node)] < 0) terminal[size_t(node)] = int32_t(index);
    }
    // Breadth first, so a node's failure target (a shorter string) is finished before it.
    fail_.assign(terminal.size(), 0);
    best_.assign(terminal.size(), -1);
    std::vector<int32_t> queue = {0};
    for (size_t head = 0; head < queue.size(); ++head) {
        const int32_t node = queue[head];
        for (const auto& [byte, next] : children[size_t(node)]) {
            int32_t target = 0;
            if (node != 0) {
                int32_t f = fail_[size_t(node)];
                while (f != 0 && child(f, byte) < 0) f = fail_[size_t(f)];
                target = std::max(child(f, byte), 0);
            }
            fail_[size_t(next)] = target;
            best_[size_t(next)] =
                terminal[size_t(next)] >= 0 ? terminal[size_t(next)] : best_[size_t(target)];
            queue.push_back(next);
        }
    }
}

int32_t AddedTokenMatcher::child(int32_t node, unsigned char byte) const {
    if (node == 0) return root_edges_[byte];
    const auto found = edges_.find(uint64_t(node) << 8 | byte);
    return found == edges_.end() ? -1 : found->second;
}

void AddedTokenMatcher::longest_starts(std::string_view text, size_t from, size_t to,
                                       std::vector<int32_t>& longest) const {
    // Backwards from the end of every token that could start before `to`.
    const size_t end = std::min(text.size(), to + longest_token_);
    longest.assign(to - from, -1);
    int32_t node = 0;
    for (size_t i = end; i-- > from;) {
        const auto byte = static_cast<unsigned char>(text[i]);
        int32_t next = child(node, byte);
        while (next < 0 && node != 0) {
            node = fail_[size_t(node)];
            next = child(node, byte);
        }
        node = std::max(next, 0);
        if (i < to) longest[i - from] = best_[size_t(node)];
    }
}

std::vector<AddedTokenMatcher::Match> AddedTokenMatcher::split(std::string_view text) const {
    std::vector<Match> matches;
    if (longest_token_ == 0) return matches;
    const size_t window = std::max<size_t>(size_t{1} << 16, longest_token_);
    std::vector<int32_t> longest;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t from = pos, to = std::min(text.size(), pos + window);
        longest_starts(text, from, to, longest);
        while (pos < to) {
            const int32_t index = longest[pos - from];
            if (index < 0) {
                ++pos;
                continue;
            }
            matches.push_back({pos, &tokens_[size_t(index)]});
            pos += tokens_[size_t(index)].content.size();
        }
    }
    return matches;
}

const AddedToken* AddedTokenMatcher::longest_at(std::string_view text, size_t pos) const {
    if (longest_token_ == 0 || pos >= text.size()) return nullptr;
    std::vector<int32_t> longest;
    longest_starts(text, pos, pos + 1, longest);
    return longest[0] < 0 ? nullptr : &tokens_[size_t(longest[0])];
}

const AddedToken* AddedTokenMatcher::find(std::string_view content) const {
    const auto found = by_content_.find(content);
    return found == by_content_.end() ? nullptr : &tokens_[size_t(found->second)];
}

}  // namespace headmap
