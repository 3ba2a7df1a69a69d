#include "engine/attention_ring.h"

#include <string>

#include "headmap/error.hpp"

namespace headmap {

AttentionRing::AttentionRing(int slots, size_t floats_per_slot)
    : AttentionRing(slots, floats_per_slot, std::span<float>{}) {}

AttentionRing::AttentionRing(int slots, size_t floats_per_slot, std::span<float> storage)
    : slots_(slots), floats_per_slot_(floats_per_slot) {
    if (slots < 1)
        throw Error("attention ring needs at least 1 slot, got " + std::to_string(slots));
    if (storage.empty()) {
        // Left uninitialised on purpose: pages are faulted in by the first forward that uses them.
        owned_.reset(new float[size_t(slots) * floats_per_slot]);
        storage_ = owned_.get();
    } else {
        if (storage.size() < size_t(slots) * floats_per_slot)
            throw Error("attention ring storage holds " + std::to_string(storage.size()) +
                        " floats, " + std::to_string(size_t(slots) * floats_per_slot) + " needed");
        storage_ = storage.data();
    }
    meta_.reset(new SlotMeta[size_t(slots)]);
}

std::span<float> AttentionRing::acquire(size_t floats) {
    if (floats > floats_per_slot_)
        throw Error("attention maps need " + std::to_string(floats) + " floats, ring slots hold " +
                    std::to_string(floats_per_slot_));
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return cancelled_ || published_ - released_ < uint64_t(slots_); });
    if (cancelled_) throw Error("attention stream cancelled by its consumer");
    acquired_ = true;
    return {storage_ + (published_ % slots_) * floats_per_slot_, floats};
}

void AttentionRing::publish(int layer, int seq_len, int n_head) {
    {
        std::lock_guard lock(mutex_);
        if (!acquired_) throw Error("attention ring: publish without acquire");
        acquired_ = false;
        ++published_;
        meta_[(published_ - 1) % slots_] = {layer, seq_len, n_head};
    }
    changed_.notify_all();
}

void AttentionRing::finish() {
    {
        std::lock_guard lock(mutex_);
        finished_ = true;
    }
    changed_.notify_all();
}

std::optional<AttentionSlot> AttentionRing::next() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return cancelled_ || taken_ < published_ || finished_; });
    if (cancelled_ || taken_ == published_) return std::nullopt;
    const uint64_t sequence = taken_++;
    const SlotMeta& meta = meta_[sequence % slots_];
    const size_t floats = size_t(meta.n_head) * meta.seq_len * meta.seq_len;
    AttentionSlot slot;
    slot.layer = meta.layer;
    slot.seq_len = meta.seq_len;
    slot.n_head = meta.n_head;
    slot.maps = {storage_ + (sequence % slots_) * floats_per_slot_, floats};
    slot.sequence = sequence;
    return slot;
}

void AttentionRing::release(const AttentionSlot& slot) {
    {
        std::lock_guard lock(mutex_);
        if (slot.sequence != released_)
            throw Error("attention ring: slots must be released in the order they were received");
        ++released_;
    }
    changed_.notify_all();
}

void AttentionRing::cancel() {
    {
        std::lock_guard lock(mutex_);
        cancelled_ = true;
    }
    changed_.notify_all();
}

void AttentionRing::reset() {
    std::lock_guard lock(mutex_);
    published_ = taken_ = released_ = 0;
    acquired_ = finished_ = cancelled_ = false;
}

}  // namespace headmap
