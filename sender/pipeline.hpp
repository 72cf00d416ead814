#pragma once
// The sender's stages wired together, on the loop thread: outbox entries → coalesce → fan-out →
// dedupe → dispatch → classify → ledger (finished work leaves the outbox). The queue consumer
// (consumer.hpp) feeds accept() from its own thread through the daemon's loop.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "sender/backoff.hpp"
#include "sender/clock.hpp"
#include "sender/coalescer.hpp"
#include "sender/dedupe.hpp"
#include "sender/dispatcher.hpp"
#include "sender/fanout.hpp"
#include "sender/ledger.hpp"
#include "sender/logger.hpp"
#include "sender/routes.hpp"
#include "sender/store_writer.hpp"
#include "sender/timers.hpp"
#include "sender/transport.hpp"
#include "shared/config.hpp"
#include "shared/queue.hpp"
#include "shared/store.hpp"

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
    };

    Pipeline(const Config& config, Deps deps);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // Start-up: reloads the outbox; each group's entries merge into one round at once (newest
    // tail). Returns how many entries were reloaded.
    std::size_t recover();
    // Entries the consumer has put in the outbox (and committed in the queue).
    void accept(const std::vector<OutboxEntry>& entries);
    // Writes what this loop iteration collected: delivered tails, then finished outbox entries.
    void flush();
    // Shutdown: no new rounds or sends; the wire gets `deadline_ms` to answer.
    void stop(std::uint32_t deadline_ms);
    bool drained() const noexcept { return dispatcher_->on_wire() == 0; }

    const Routes& routes() const noexcept { return routes_; }
    const Ledger& ledger() const noexcept { return ledger_; }
    const Dispatcher& dispatcher() const noexcept { return *dispatcher_; }
    const Coalescer& coalescer() const noexcept { return coalescer_; }

private:
    void run_round(Round round);

    Deps deps_;
    Routes routes_;
    Backoff backoff_;
    Dedupe dedupe_;
    Ledger ledger_;
    FanOut fanout_;
    std::unique_ptr<Dispatcher> dispatcher_;
    Coalescer coalescer_;
    bool stopping_ = false;
};

}  // namespace pushsync::sender
