// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fanout/dedupe.hpp"

namespace pushsync::sender {

bool Dedupe::should_send(std::string_view token, std::string_view tail) const {
    if (const auto it = unflushed_.find(token); it != unflushed_.end()) return it->second.tail != tail;
    const auto last = store_.last_sent_tail(token);
    return !last || *last != tail;
}

std::vector<bool> Dedupe::should_send_each(
    std::span<const std::pair<std::string_view, std::string_view>> token_tail) const {
    // Whatever forget_written() dropped is in the store by now, so one snapshot read here sees it.
    std::vector<bool> send = store_.were_sent(token_tail);
    for (std::size_t i = 0; i < token_tail.size(); ++i) {
        if (const auto it = unflushed_.find(token_tail[i].first); it != unflushed_.end()) {
            send[i] = it->second.tail != token_tail[i].second;
        } else {
            send[i] = !send[i];
        }
    }
    return send;
}

void Dedupe::record(std::string_view token, std::string_view tail) {
    batch_.emplace_back(std::string(token), std::string(tail));
    if (const auto it = unflushed_.find(token); it != unflushed_.end()) {
        it->second = Recent{std::string(tail), generation_};
    } else {
        unflushed_.emplace(std::string(token), Recent{std::string(tail), generation_});
    }
    order_.emplace_back(generation_, std::string(token));
}

void Dedupe::flush() {
    if (batch_.empty()) return;
    store_.record_sent(batch_);
    batch_.clear();
    unflushed_.clear();
    order_.clear();
    ++generation_;
}

std::vector<std::pair<std::string, std::string>> Dedupe::take_batch() {
    auto batch = std::move(batch_);
    batch_.clear();
    ++generation_;
    return batch;
}

void Dedupe::forget_written(std::uint64_t written_generation) {
    while (!order_.empty() && order_.front().first <= written_generation) {
        const auto it = unflushed_.find(order_.front().second);
        // A newer record of the same token (a later generation) stays until that one is written.
        if (it != unflushed_.end() && it->second.generation <= written_generation) unflushed_.erase(it);
        order_.pop_front();
    }
}

}  // namespace pushsync::sender
