#pragma once
// Per-device dedupe: the same tail never goes twice to a device. Remembers what was delivered
// (Store::last_sent_tail) and batches the writes (Store::record_sent) into one transaction per
// loop iteration, so a burst of 200s costs one commit, not one per push.
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "shared/store.hpp"

namespace pushsync::sender {

class Dedupe {
public:
    explicit Dedupe(Store& store) : store_(store) {}

    // False when `tail` is the newest tail already delivered to `token`.
    bool should_send(std::string_view token, std::string_view tail) const;
    void record(std::string_view token, std::string_view tail);
    // Writes what record() collected (one transaction); throws StoreError, keeping the batch.
    void flush();
    std::size_t unflushed() const noexcept { return batch_.size(); }

private:
    Store& store_;
    std::vector<std::pair<std::string, std::string>> batch_;
    std::unordered_map<std::string, std::string> unflushed_;  // token -> tail, newest
};

}  // namespace pushsync::sender
