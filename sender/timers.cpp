// SPDX-License-Identifier: BSD-2-Clause
#include "sender/timers.hpp"

namespace pushsync::sender {

TimerQueue::Id TimerQueue::after(std::int64_t delay_ms, std::function<void()> fn) {
    const Id id = next_id_++;
    const std::int64_t deadline = clock_.now_ms() + (delay_ms > 0 ? delay_ms : 0);
    const bool earliest = timers_.empty() || deadline < timers_.begin()->first.first;
    timers_.emplace(std::make_pair(deadline, id), std::move(fn));
    deadlines_.emplace(id, deadline);
    if (earliest && on_change_) on_change_();
    return id;
}

void TimerQueue::cancel(Id id) {
    const auto it = deadlines_.find(id);
    if (it == deadlines_.end()) return;
    timers_.erase(std::make_pair(it->second, id));
    deadlines_.erase(it);
}

std::optional<std::int64_t> TimerQueue::next_deadline() const {
    if (timers_.empty()) return std::nullopt;
    return timers_.begin()->first.first;
}

std::size_t TimerQueue::run_due() {
    std::size_t ran = 0;
    const std::int64_t now = clock_.now_ms();
    while (!timers_.empty() && timers_.begin()->first.first <= now) {
        auto node = timers_.extract(timers_.begin());
        deadlines_.erase(node.key().second);
        node.mapped()();  // may add or cancel timers
        ++ran;
    }
    return ran;
}

}  // namespace pushsync::sender
