// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The sender's stages wired together, on the loop thread: outbox entries → coalesce → fan-out →
// dedupe → dispatch → classify → ledger (finished work leaves the outbox). The queue consumer
// (intake/consumer.hpp) feeds accept() from its own thread through the daemon's loop.
//
// A round fans out a page of its group at a time, the open rounds taking turns, each while a
// connection its devices went to has room: the first pushes leave at once, memory stays flat for
// any group size, a small group is not stuck behind a huge one, and a slow or refused connection
// paces only the rounds that use it. A newer round of a group reaches every device an older one
// has not yet reached, so that one stops where it is.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sender/dispatch/backoff.hpp"
#include "sender/clock.hpp"
#include "sender/intake/coalescer.hpp"
#include "sender/fanout/dedupe.hpp"
#include "sender/dispatch/recorder.hpp"
#include "sender/dispatch/dispatcher.hpp"
#include "sender/fanout/fanout.hpp"
#include "sender/dispatch/holds.hpp"
#include "sender/intake/ledger.hpp"
#include "sender/logger.hpp"
#include "sender/fanout/routes.hpp"
#include "sender/dispatch/store_writer.hpp"
#include "sender/timers.hpp"
#include "sender/transport.hpp"
#include "shared/config/config.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"

namespace pushsync::sender {

class Pipeline {
public:
    struct Deps {
        Store& store;
        TimerQueue& timers;
        Random& random;
        Logger& log;
        std::function<void(Counter, std::uint64_t)> count;  // Queue::add; may be empty
        TransportFactory factory;
        StoreWriter* writer = nullptr;  // null: flush() writes itself, synchronously
        metrics::MetricsWriter* metrics = nullptr;  // null: no metrics file
        // Finished entries not stored yet that need never be (QueueConsumer::forget_unwritten);
        // may be empty.
        std::function<std::vector<std::uint64_t>(std::vector<std::uint64_t>)> forget_unwritten = {};
    };

    Pipeline(const Config& config, Deps deps);
    // With routes whose connections carry loaded credentials (daemon/credentials.hpp).
    Pipeline(const Config& config, Routes routes, Deps deps);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // Start-up: reloads the outbox, its first `limit` entries (0: all); each group's entries
    // merge into one round at once (newest tail). Returns how many entries were reloaded.
    std::size_t recover(std::size_t limit = 0);
    // The id after the last entry recover() reloaded.
    std::uint64_t recovered_below() const noexcept { return recovered_below_; }
    // Entries from the consumer; `stored`: already in the outbox (else stored_below() says when).
    void accept(const std::vector<OutboxEntry>& entries, bool stored = true);
    // The consumer's outbox write has passed every entry with a smaller id.
    void stored_below(std::uint64_t id) { ledger_.stored_below(id); }
    // Writes what this loop iteration collected: delivered tails, then finished outbox entries.
    void flush();
    // A reload: the new routes and delivery settings apply from now on; connections whose
    // configuration or credentials changed drain and are replaced, and what waited for them
    // moves to the replacement (Dispatcher::reconfigure). Throws std::runtime_error from the
    // transport factory before changing anything. Returns how many connections were replaced.
    std::size_t reconfigure(const Config& config, Routes routes);
    // Shutdown: no new rounds or sends; the wire gets `deadline_ms` to answer.
    void stop(std::uint32_t deadline_ms);
    bool drained() const noexcept { return dispatcher_->on_wire() == 0; }

    const Routes& routes() const noexcept { return routes_; }
    const Ledger& ledger() const noexcept { return ledger_; }
    const Dispatcher& dispatcher() const noexcept { return *dispatcher_; }
    const Coalescer& coalescer() const noexcept { return coalescer_; }
    const Holds& holds() const noexcept { return *holds_; }
    std::size_t expanding() const noexcept { return expanding_.size(); }
    // Rounds whose first page waits for room in the backlog (max_backlog).
    std::size_t waiting_rounds() const noexcept { return waiting_.size(); }

    static constexpr std::size_t fanout_page = 1024;
    // A round's first page waits (in waiting_) while the Dispatcher's backlog holds this many
    // pushes (~240 B each with the token: 16 MiB; a round waiting costs only its Round), else a
    // burst of rounds would each put a page of up to 1024 pushes there at once. Later pages are
    // paced by their connections' room already. Normal traffic keeps the backlog near empty
    // (APNs answers within the window of 2,000 per connection): only a burst or a stall reaches it.
    static constexpr std::size_t max_backlog = 65536;

private:
    struct Expansion {
        Round round;
        std::string after;                    // the last token fanned out
        std::vector<std::size_t> connections;  // those its pushes went to so far
    };
    void run_round(Round round);
    void start_waiting();  // first pages of waiting_ while the backlog has room
    void expand();
    bool wants_page(const Expansion& expansion) const;
    bool expand_page(Expansion& expansion);  // true: the round's fan-out is over
    void retry_when_written();
    void forget_expanding(const std::string& group);

    Deps deps_;
    Routes routes_;
    Backoff backoff_;
    Dedupe dedupe_;
    Ledger ledger_;
    FanOut fanout_;
    DeliveryRecorder recorder_;
    std::unique_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<Holds> holds_;
    Coalescer coalescer_;
    std::deque<Expansion> expanding_;
    std::unordered_map<std::string, std::size_t> expanding_groups_;  // group -> its rounds in expanding_
    std::deque<Round> waiting_;  // opened, first page not yet out (max_backlog), in order
    std::unordered_map<std::string, std::uint64_t> newest_waiting_;  // group -> its newest round in waiting_
    // Finished notifies the consumer has not stored, each batch with the writer's generation that
    // holds what their pushes left to write: offered to forget_unwritten once it is written.
    std::deque<std::pair<std::uint64_t, std::vector<std::uint64_t>>> forgettable_;
    // The fan-out waits for the writer to store the holds' writes (Holds::has_room); this timer
    // looks again soon, as nothing else may wake the loop.
    bool waiting_for_writer_ = false;
    TimerQueue::Id writer_retry_ = 0;
    bool stopping_ = false;
    std::uint64_t recovered_below_ = 0;
};

}  // namespace pushsync::sender
