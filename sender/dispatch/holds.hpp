// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The per-device push budget (delivery.device_min_interval_s). Apple throttles background pushes
// per device ("not more than two or three per hour"); pushsync's pushes carry only the newest
// tail, so a push due to a device sooner than the interval after its previous one waits, and
// when the interval has passed it carries the newest tail the device was due: several notifies in
// the wait give one push.
//
// A waiting push is durable, not a timer in memory: the store keeps each device's last push and
// waiting push (DeviceBudget) and the waiting pushes ordered by due time (HeldPush), written in
// the StoreWriter's batches (no fsync of its own). Once a push waits in the store, its round is
// finished for the Ledger, so its notify can leave the outbox; the hold stays until the released
// push is finished. A sender killed meanwhile finds the waiting pushes in the store and releases
// them when they are due. In memory: the writes not yet in the store (at most about
// `max_unwritten`: the pipeline's fan-out waits for the writer beyond that), and at most
// `max_releasing` released pushes; a million waiting devices cost store pages, not heap.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sender/dispatch/dispatcher.hpp"
#include "sender/logger.hpp"
#include "sender/round.hpp"
#include "sender/fanout/routes.hpp"
#include "sender/timers.hpp"
#include "shared/metrics/file.hpp"
#include "shared/store/store.hpp"

namespace pushsync::sender {

struct HoldStats {
    std::uint64_t held = 0;     // pushes that had to wait (each one device's push)
    std::uint64_t renewed = 0;  // notifies that reached a waiting push instead (a newer tail, or not)
    std::uint64_t released = 0; // waiting pushes sent when due
    std::uint64_t dropped = 0;  // waiting pushes whose device had left the group or its app
};

class Holds {
public:
    struct Deps {
        Store& store;
        TimerQueue& timers;  // its clock's unix_ms() times the budget: due times outlive the process
        Logger& log;
        const Routes& routes;
        std::function<void(std::vector<Push>)> release;         // due pushes, into the dispatcher
        metrics::MetricsWriter* metrics = nullptr;  // the hold counters and waiting gauge; may be null
    };

    Holds(std::uint32_t interval_s, Deps deps);
    ~Holds();
    Holds(const Holds&) = delete;
    Holds& operator=(const Holds&) = delete;

    bool enabled() const noexcept { return interval_ms_ > 0; }

    // A page of a round's fan-out: the targets that may be pushed now stay in `targets` (their
    // last push is now); the others wait, or their waiting push takes this round's newer tail.
    // `origin`: the round's origin when the fan-out skipped it; a push waiting for it takes the
    // newer tail too (the newest tail of its group, as the budget promises). True when a push
    // waits (or took the tail): the round's notifies must then stay in the outbox until stored.
    bool filter(const Round& round, std::vector<Target>& targets, std::string_view origin = {});

    // Released pushes carry a round id of their own, never one of the Ledger's.
    static bool owns(std::uint64_t round_id) noexcept { return (round_id & released_bit) != 0; }
    // A released push is finished (delivered, failed, superseded, a duplicate): its hold leaves
    // the store.
    void finished(const Push& push);

    // After the outbox's recovery: the waiting pushes in the store are timed from now on.
    void start();
    void stop();

    // The store writes for the writer's batch `generation`; forget_written() once it is stored.
    bool has_writes() const noexcept { return !writes_.empty(); }
    std::vector<BudgetWrite> take_writes(std::uint64_t generation);
    void forget_written(std::uint64_t written_generation);
    // Without a writer: writes now (throws StoreError, keeping nothing back).
    void flush();

    // The store writes not stored yet, and what stands for them in memory, are bounded: while
    // max_unwritten of them wait for the writer, the pipeline fans out no more pages. Without the
    // bound, a burst that makes a million devices wait held all their writes in the heap at once
    // (~1.4 KB each) while the writer caught up.
    std::size_t unwritten() const noexcept { return budget_order_.size() + hold_order_.size(); }
    bool has_room() const noexcept { return unwritten() < max_unwritten; }

    std::size_t waiting() const noexcept { return waiting_; }
    std::size_t releasing() const noexcept { return releasing_.size(); }
    const HoldStats& stats() const noexcept { return stats_; }

    static constexpr std::size_t max_releasing = 4096;
    static constexpr std::size_t max_unwritten = 16384;
    static constexpr std::uint64_t released_bit = std::uint64_t{1} << 63;

private:
    using Key = std::pair<std::int64_t, std::string>;  // due_ms, token
    struct PendingBudget {
        DeviceBudget budget;
        std::uint64_t batch;
    };
    struct PendingHold {
        std::optional<HeldPush> hold;  // nullopt: released (erased)
        std::uint64_t batch;
    };

    DeviceBudget budget_of(const std::string& token, const std::optional<DeviceBudget>& stored) const;
    void put_budget(const std::string& token, const DeviceBudget& budget);
    void put_hold(HeldPush hold);
    void erase_hold(std::int64_t due_ms, const std::string& token);
    void wait(const std::string& token, DeviceBudget budget, const Round& round, std::uint64_t tail_id,
              std::int64_t due_ms);
    void release_due();
    // One due hold: a push to release, or dropped when its device is gone.
    std::optional<Push> release(const HeldPush& hold, std::int64_t now_ms);
    // The timer at the earliest due time known (a hold being released does not count).
    void arm(std::int64_t due_ms);
    std::int64_t earliest_unwritten() const;
    void count(metrics::HoldEvent event) noexcept;
    void set_waiting(std::size_t waiting) noexcept;

    std::int64_t interval_ms_;
    Deps deps_;
    bool stopped_ = false;

    std::vector<BudgetWrite> writes_;
    std::uint64_t batch_ = 1;  // the batch writes_ collects
    std::deque<std::pair<std::uint64_t, std::uint64_t>> taken_;  // writer generation, batch
    // What writes_ and the writer have not put in the store yet, read before the store.
    std::unordered_map<std::string, PendingBudget> budgets_;
    std::map<Key, PendingHold> holds_;
    std::deque<std::pair<std::uint64_t, std::string>> budget_order_;  // batch, token
    std::deque<std::pair<std::uint64_t, Key>> hold_order_;            // batch, key

    std::unordered_map<std::uint64_t, Key> releasing_;  // released push's round id -> its hold
    std::map<Key, std::uint64_t> releasing_keys_;
    std::uint64_t next_release_ = 1;
    bool backlogged_ = false;  // due holds left in the store for want of room

    TimerQueue::Id timer_ = 0;
    std::int64_t timer_due_ms_ = std::numeric_limits<std::int64_t>::max();

    std::size_t waiting_ = 0;
    HoldStats stats_;
};

}  // namespace pushsync::sender
