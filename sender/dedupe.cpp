#include "sender/dedupe.hpp"

namespace pushsync::sender {

bool Dedupe::should_send(std::string_view token, std::string_view tail) const {
    if (const auto it = unflushed_.find(std::string(token)); it != unflushed_.end()) return it->second != tail;
    const auto last = store_.last_sent_tail(token);
    return !last || *last != tail;
}

void Dedupe::record(std::string_view token, std::string_view tail) {
    batch_.emplace_back(std::string(token), std::string(tail));
    unflushed_[std::string(token)] = std::string(tail);
}

void Dedupe::flush() {
    if (batch_.empty()) return;
    store_.record_sent(batch_);
    batch_.clear();
    unflushed_.clear();
}

}  // namespace pushsync::sender
