// The attention ring: K preallocated slots, each big enough for one layer's (H, S_max, S_max)
// fp32 softmax maps. The forward pass writes a layer's maps straight into the next free slot and
// publishes it; consumers take slots in layer order and release them. When every slot is still
// held, the producer blocks (backpressure), so memory is bounded by K, not by the layer count.
// One producer and one consumer; nothing here allocates after construction.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>

namespace headmap {

struct AttentionSlot {
    int layer = 0;
    int seq_len = 0;
    int n_head = 0;
    std::span<const float> maps;  // (H, S, S), rows are attending (query) tokens
    uint64_t sequence = 0;        // publication number, for in-order release

    std::span<const float> head(int h) const {
        const size_t n = size_t(seq_len) * seq_len;
        return maps.subspan(size_t(h) * n, n);
    }
};

class AttentionRing {
  public:
    AttentionRing(int slots, size_t floats_per_slot);
    // Slots in caller-owned storage of at least slots * floats_per_slot floats (the CUDA backend
    // passes page-locked memory, so device copies land in the slots directly).
    AttentionRing(int slots, size_t floats_per_slot, std::span<float> storage);

    int slots() const { return slots_; }
    size_t floats_per_slot() const { return floats_per_slot_; }

    // Producer. acquire() blocks while all slots are held and returns the next slot's storage
    // (the first `floats` of it); it throws headmap::Error once the ring is cancelled.
    std::span<float> acquire(size_t floats);
    void publish(int layer, int seq_len, int n_head);
    void finish();  // no more slots in this pass

    // Consumer. next() blocks until a slot is published; nullopt once finished and drained.
    std::optional<AttentionSlot> next();
    void release(const AttentionSlot& slot);  // slots must be released in the order received

    // Stops both sides: a blocked acquire() throws, next() returns nullopt.
    void cancel();
    // Starts a new pass; only valid when no slot is held.
    void reset();

  private:
    int slots_;
    size_t floats_per_slot_;
    std::unique_ptr<float[]> owned_;  // slots_ * floats_per_slot_, unless the caller's storage
    float* storage_ = nullptr;
    struct SlotMeta {
        int layer = 0, seq_len = 0, n_head = 0;
    };
    std::unique_ptr<SlotMeta[]> meta_;  // one per slot
    std::mutex mutex_;
    std::condition_variable changed_;
    uint64_t published_ = 0;  // slots published this pass
    uint64_t taken_ = 0;      // slots handed to the consumer
    uint64_t released_ = 0;   // slots released by the consumer
    bool acquired_ = false;   // the producer holds slot published_ % slots_
    bool finished_ = false;
    bool cancelled_ = false;
};

}  // namespace headmap
