// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Test-only entry points into the queue (tests/shared/queue, bench/queue). Not for production callers.
#include <cstdint>
#include <functional>

#include "shared/queue/queue.hpp"

namespace pushsync {

struct QueueTestAccess {
    // Exactly enqueue(), but calls `after_claim` once the slot is claimed and before the entry is
    // written and published: a test stops or kills the producer there, the window a crash or a
    // descheduling hits in production.
    static EnqueueResult enqueue_pausing(Queue& queue, const Notify& notify, const std::function<void()>& after_claim);
    // Exactly commit(), but calls `before_moving_position` after the slots were handed on to the
    // next round and before the committed position moves: a consumer dying inside commit().
    static void commit_pausing(Queue& queue, std::uint64_t end_position,
                               const std::function<void()>& before_moving_position);
};

}  // namespace pushsync
