// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Merges the notifies of one group that arrive within coalesce_ms of the group's first pending
// one into one round: the newest (highest queue position) tail wins and its origin is left out.
// The window starts at the first notify, so a busy group still gets a round every coalesce_ms.
// coalesce_ms 0: every notify is its own round, at once.
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "sender/round.hpp"
#include "sender/timers.hpp"
#include "shared/store/store.hpp"

namespace pushsync::sender {

class Coalescer {
public:
    using Emit = std::function<void(Round round)>;

    Coalescer(std::uint32_t coalesce_ms, TimerQueue& timers, Emit emit);
    ~Coalescer();
    Coalescer(const Coalescer&) = delete;
    Coalescer& operator=(const Coalescer&) = delete;

    void add(const OutboxEntry& entry);
    // A reload's coalesce_ms: windows opened from now on; open ones end as they were set.
    void set_window(std::uint32_t coalesce_ms) noexcept { coalesce_ms_ = coalesce_ms; }
    // Emits every pending group now (shutdown does not call this: pending entries stay in the outbox).
    void flush_all();
    // Forgets pending groups without emitting (their entries stay in the outbox for the next start).
    void drop_all();
    std::size_t pending_groups() const noexcept { return pending_.size(); }

private:
    struct Pending {
        Round round;
        std::uint64_t newest_id = 0;
        TimerQueue::Id timer = 0;
    };
    void merge(Pending& pending, const OutboxEntry& entry);
    void emit_group(const std::string& group);

    std::uint32_t coalesce_ms_;
    TimerQueue& timers_;
    Emit emit_;
    std::unordered_map<std::string, Pending> pending_;
};

}  // namespace pushsync::sender
