// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Per-device dedupe: the same tail never goes twice to a device. Remembers what was delivered
// (Store::last_sent_tail) and batches the writes (Store::record_sent) into one transaction per
// loop iteration, so a burst of 200s costs one commit, not one per push. Tails handed to the
// StoreWriter stay remembered here until it reports them written.
#include <cstdint>
#include <functional>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "shared/store/store.hpp"

namespace pushsync::sender {

class Dedupe {
public:
    explicit Dedupe(Store& store) : store_(store) {}

    // False when `tail` is the newest tail already delivered to `token`.
    bool should_send(std::string_view token, std::string_view tail) const;
    // should_send() for many pushes with one store read; valid until the next record() or
    // forget_written() (the dispatcher asks just before starting them).
    std::vector<bool> should_send_each(std::span<const std::pair<std::string_view, std::string_view>> token_tail) const;
    void record(std::string_view token, std::string_view tail);
    // Writes what record() collected (one transaction); throws StoreError, keeping the batch.
    void flush();
    std::size_t unflushed() const noexcept { return batch_.size(); }

    // For an asynchronous writer: the batch's generation, the batch, and forgetting what the
    // writer has put in the store.
    std::uint64_t generation() const noexcept { return generation_; }
    std::vector<std::pair<std::string, std::string>> take_batch();
    void forget_written(std::uint64_t written_generation);

private:
    struct Recent {
        std::string tail;
        std::uint64_t generation;
    };
    Store& store_;
    std::vector<std::pair<std::string, std::string>> batch_;
    // Transparent hashing: should_send() looks a token up without copying it into a std::string.
    struct TokenHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view token) const noexcept { return std::hash<std::string_view>{}(token); }
    };
    std::unordered_map<std::string, Recent, TokenHash, std::equal_to<>> unflushed_;  // token -> newest tail not yet in the store
    // The same tokens in record order, so forgetting what was written costs only what it forgets.
    std::deque<std::pair<std::uint64_t, std::string>> order_;
    std::uint64_t generation_ = 1;
};

}  // namespace pushsync::sender
