// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Deadlines of the pipeline (coalescing windows, retry backoff, credential-hold probes) in one
// ordered queue. The daemon arms a single libev timer at next_deadline(); unit tests advance a
// fake clock and call run_due() themselves.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "sender/clock.hpp"

namespace pushsync::sender {

class TimerQueue {
public:
    using Id = std::uint64_t;  // 0 is never a timer

    explicit TimerQueue(const Clock& clock) : clock_(clock) {}
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;

    Id after(std::int64_t delay_ms, std::function<void()> fn);
    void cancel(Id id);  // unknown or already run: nothing
    std::optional<std::int64_t> next_deadline() const;
    // Runs every timer due at the clock's now (including ones added by those, when due).
    std::size_t run_due();
    std::size_t size() const noexcept { return timers_.size(); }
    const Clock& clock() const noexcept { return clock_; }
    // Called when the earliest deadline may have changed (the loop re-arms its timer).
    void set_on_change(std::function<void()> on_change) { on_change_ = std::move(on_change); }

private:
    const Clock& clock_;
    Id next_id_ = 1;
    std::map<std::pair<std::int64_t, Id>, std::function<void()>> timers_;
    std::unordered_map<Id, std::int64_t> deadlines_;
    std::function<void()> on_change_;
};

}  // namespace pushsync::sender
