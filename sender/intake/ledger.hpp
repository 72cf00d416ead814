// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The outbox bookkeeping: which outbox entries are live, which round each went into, and when a
// round's pushes are all finished. Entries leave the outbox per group in queue order only: a
// round's entries are removed once it and every older round of its group are finished. So after
// a crash the reloaded outbox holds, per group, the oldest unfinished notify and everything newer;
// merged into one round with the newest tail, no device ends up holding an older tail than one
// it was already sent.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sender/round.hpp"
#include "shared/store/store.hpp"

namespace pushsync::sender {

class Ledger {
public:
    explicit Ledger(Store& store) : store_(store) {}

    // False when the entry is already live (the queue redelivers what it had not committed when
    // the sender died, though the outbox already held it). `stored`: already in the outbox; if
    // not, its removal waits for stored_below() to pass it — a refused redelivery's too, since
    // the consumer writes it again.
    bool admit(const OutboxEntry& entry, bool stored = true);
    // Every admitted entry with a smaller id is in the outbox now.
    void stored_below(std::uint64_t id);
    // Assigns round.id; the round is open until close_fanout() and then until its pushes finish.
    void open(Round& round);
    void add_pushes(std::uint64_t round_id, std::size_t n);
    // Every push of the round has been added.
    void close_fanout(std::uint64_t round_id);
    void push_finished(std::uint64_t round_id);
    // The round's pushes left writes that must be stored before its entries may be forgotten
    // (held pushes, sender/dispatch/holds.hpp): its entries go through the outbox even if finished early.
    void keep_stored(std::uint64_t round_id);
    // Freed entries the consumer had not stored yet, for forget_unstored() once what their
    // pushes left to write (delivered tails, statistics) is in the store.
    std::vector<std::uint64_t> take_finished_unstored();
    // `forget` drops from the consumer's outbox write those of `ids` it still can
    // (QueueConsumer::forget_unwritten) and returns them; they are forgotten here. The others
    // leave the outbox once stored, as usual.
    void forget_unstored(std::vector<std::uint64_t> ids,
                         const std::function<std::vector<std::uint64_t>(std::vector<std::uint64_t>)>& forget);
    // Removes the freed entries from the outbox (one transaction); throws StoreError, keeping them.
    void flush();
    // For an asynchronous writer: the freed ids, forgotten here as if written.
    std::vector<std::uint64_t> take_removals();

    std::size_t live_entries() const noexcept { return live_.size(); }
    std::size_t open_rounds() const noexcept { return rounds_.size(); }
    std::size_t unstored() const noexcept { return unstored_.size(); }
    // Rounds finished since the start (benchmarks and logs).
    std::uint64_t finished_rounds() const noexcept { return finished_rounds_; }

private:
    struct State {
        std::string group;
        std::vector<std::uint64_t> entry_ids;
        std::size_t outstanding = 0;
        bool fanout_closed = false;
        bool finished = false;
        bool keep_stored = false;
    };
    void maybe_finish(std::uint64_t round_id);
    void release_prefix(const std::string& group);
    // The ids of to_remove_ that may leave the outbox now; the rest stay in to_remove_.
    std::vector<std::uint64_t> removable();
    // Removed from the outbox: no longer live.
    void forget(const std::vector<std::uint64_t>& removed);

    Store& store_;
    std::unordered_set<std::uint64_t> live_;
    std::set<std::uint64_t> unstored_;  // admitted before the consumer's outbox write finished
    // Live entries the consumer is writing again (redelivered after a restart; in unstored_ too):
    // never forgettable, since the outbox holds them from the earlier run.
    std::unordered_set<std::uint64_t> rewritten_;
    std::map<std::uint64_t, State> rounds_;
    std::unordered_map<std::string, std::deque<std::uint64_t>> by_group_;  // open round ids, oldest first
    std::vector<std::uint64_t> to_remove_;
    std::vector<std::uint64_t> finished_unstored_;  // freed, not in the outbox yet, forgettable
    std::uint64_t next_round_ = 1;
    std::uint64_t finished_rounds_ = 0;
};

}  // namespace pushsync::sender
