// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The queue consumer: a thread that blocks in Queue::read and hands each batch on at once (the
// daemon's ev_async), and a second one that writes what was handed over into the store's outbox
// (one transaction for whatever piled up meanwhile). The reader commits the queue only past what
// the writer has stored or the loop has finished, and reports it. So neither a push nor the
// reading of the next notifies waits for the outbox's fsync, and a sender killed at any point
// still redelivers: what the queue still holds was never committed, what was committed is in the
// outbox or was delivered. Only removing an entry from the outbox must wait until it is stored
// (else the put would bring a finished entry back): the Ledger holds those removals. The ring
// bounds how far reading runs ahead of storing.
//
// The writer lets an entry wait a moment (kStoreDelay) before storing it: with APNs answering in
// milliseconds most small notifies are finished by then, and an entry whose pushes are all
// finished need never enter the outbox (forget_unwritten). A notify then costs the store no write
// of its own; one still in flight by then is stored.
//
// The loop's memory is bounded (bound_loop): past a number of entries live in the loop, the reader
// keeps reading the queue and storing what it reads in the outbox (committed in the queue as
// usual), but stops handing it to the loop. When the loop has room again it takes those entries
// back from the outbox in id order, and once none is left the handoff is direct again. So a burst
// or a long APNs outage fills the outbox on disk, not the loop's memory nor the ring; each group's
// entries still reach the loop in queue order, since one thread hands everything on in id order.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "sender/logger.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"

namespace pushsync::sender {

class QueueConsumer {
public:
    using Handoff = std::function<void(std::vector<OutboxEntry> entries)>;
    // Every entry handed over with an id below this is in the outbox, or was forgotten finished.
    using Stored = std::function<void(std::uint64_t stored_below)>;
    // How long a handed-over entry waits before the writer stores it (see above): APNs answers
    // within it, and an entry still in flight after it costs one more write at most.
    static constexpr std::chrono::milliseconds kStoreDelay{100};
    // The loop's bound (bound_loop): entries live in the loop (the Ledger's, and those handed
    // over and not yet taken). An entry costs the loop its Round and Ledger state, a few hundred
    // bytes; its pushes are bounded apart (Pipeline::max_backlog). With both, 100,000 notifies at
    // once peak at 78 MiB private instead of 374 (BENCHMARKS.md, the budget section). Normal
    // traffic never reaches it: an entry stays in the loop for kStoreDelay plus the writer's
    // commit and APNs's answer, 0.1-0.3 s, so 20,000 notifies/s keep 2,000-6,000 live.
    static constexpr std::size_t kLoopEntries = 16384;
    // How many entries in the loop the callback of bound_loop() says.
    using InLoop = std::function<std::size_t()>;

    QueueConsumer(Queue& queue, Store& store, Logger& log, Handoff handoff, Stored stored = {},
                  std::chrono::milliseconds store_delay = kStoreDelay, std::size_t batch = 1024);
    ~QueueConsumer();  // stop()
    QueueConsumer(const QueueConsumer&) = delete;
    QueueConsumer& operator=(const QueueConsumer&) = delete;

    // Before start(): the loop takes at most `max_entries` (in_loop() says how many it has); what
    // would exceed it waits in the outbox and comes back through `hand_back` (entries already
    // stored) when in_loop() is at most 3/4 of it. `divert_from`: the loop's start-up took the
    // outbox only below this id (Pipeline::recover's limit); the rest comes back the same way.
    void bound_loop(std::size_t max_entries, InLoop in_loop, Handoff hand_back,
                    std::optional<std::uint64_t> divert_from = std::nullopt);
    void start();
    // Stops taking entries and joins the thread; a batch read but not yet in the outbox stays
    // uncommitted in the queue.
    void stop();
    // From the loop: entries handed over whose pushes are all finished. Those not yet given to the
    // store are forgotten (never stored; the queue is committed past them like stored ones) and
    // returned; the others are being stored and must leave the outbox as usual.
    std::vector<std::uint64_t> forget_unwritten(std::vector<std::uint64_t> finished_ids);
    // Slots refused for content breaking the API's rules (a forged or corrupt queue file).
    std::uint64_t rejected() const noexcept { return rejected_.load(); }
    // After stop(): where the entries still waiting in the outbox begin, if any wait.
    std::optional<std::uint64_t> overflow_from() const {
        return diverting_ ? std::optional<std::uint64_t>(reload_from_) : std::nullopt;
    }
    // Entries stored in the outbox and not handed to the loop yet (the bound's overflow).
    std::uint64_t waiting_in_outbox() const noexcept {
        const std::uint64_t diverted = diverted_.load(), back = handed_back_.load();
        return diverted > back ? diverted - back : 0;
    }

private:
    void run();            // the reader: read, hand on, commit what is stored
    void write_outbox();   // the writer: outbox_put, retried with backoff while the store refuses
    bool pause(std::chrono::microseconds how_long);  // false: stopping
    // How many of `entries` (ascending) go to the loop now; the rest wait in the outbox.
    std::size_t direct_part(const std::vector<OutboxEntry>& entries);
    // Hands stored entries back in id order while the loop has room; ends the overflow once none is left.
    void hand_back();
    // How often an overflowing reader looks whether the loop has room again.
    static constexpr std::chrono::milliseconds kHandBackPoll{10};
    // The nap after a batch (see run()): notify → push latency grows by at most this.
    static constexpr std::chrono::microseconds kGatherWindow{500};
    // Logs refused slots: at most one line per kRejectedLogInterval, the others counted in it.
    void report_rejected();
    static constexpr std::chrono::seconds kRejectedLogInterval{1};

    Queue& queue_;
    Store& store_;
    Logger& log_;
    Handoff handoff_;
    Stored stored_;
    std::chrono::milliseconds store_delay_;
    std::size_t batch_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> rejected_{0};
    std::chrono::steady_clock::time_point last_rejected_log_{};  // the reader thread's
    std::uint64_t unreported_rejected_ = 0;                      // the reader thread's
    std::mutex mutex_;
    std::condition_variable wake_;
    // Guarded by mutex_: handed over and not yet given to the store (ascending ids), since when
    // the oldest of them waits, and the end of every id handed over.
    std::vector<OutboxEntry> unwritten_;
    std::vector<std::uint64_t> forgotten_;  // ids in unwritten_ never to be stored
    std::chrono::steady_clock::time_point unwritten_since_{};
    std::uint64_t handed_end_ = 0;
    bool writer_stop_ = false;  // guarded by mutex_
    std::atomic<std::uint64_t> stored_below_{0};
    // The bound (bound_loop); the overflow state is the reader thread's.
    std::size_t max_in_loop_ = 0;  // 0: unbounded
    InLoop in_loop_;
    Handoff hand_back_;
    bool diverting_ = false;
    std::uint64_t reload_from_ = 0;   // the next id to take back from the outbox
    std::uint64_t diverted_end_ = 0;  // the end of the ids stored without handoff
    std::uint64_t stored_floor_ = 0;  // every outbox entry below it was stored before this start
    bool hand_back_failed_ = false;   // logged once per run of store errors
    std::atomic<std::uint64_t> diverted_{0};
    std::atomic<std::uint64_t> handed_back_{0};
    std::thread thread_;
};

}  // namespace pushsync::sender
