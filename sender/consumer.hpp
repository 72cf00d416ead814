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
// of its own; one still in flight by then is stored as before.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "sender/logger.hpp"
#include "shared/queue.hpp"
#include "shared/store.hpp"

namespace pushsync::sender {

class QueueConsumer {
public:
    using Handoff = std::function<void(std::vector<OutboxEntry> entries)>;
    // Every entry handed over with an id below this is in the outbox, or was forgotten finished.
    using Stored = std::function<void(std::uint64_t stored_below)>;
    // How long a handed-over entry waits before the writer stores it (see above): APNs answers
    // within it, and an entry still in flight after it costs one more write at most.
    static constexpr std::chrono::milliseconds kStoreDelay{100};

    QueueConsumer(Queue& queue, Store& store, Logger& log, Handoff handoff, Stored stored = {},
                  std::chrono::milliseconds store_delay = kStoreDelay, std::size_t batch = 1024);
    ~QueueConsumer();  // stop()
    QueueConsumer(const QueueConsumer&) = delete;
    QueueConsumer& operator=(const QueueConsumer&) = delete;

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

private:
    void run();            // the reader: read, hand on, commit what is stored
    void write_outbox();   // the writer: outbox_put, retried with backoff while the store refuses
    bool pause(std::chrono::microseconds how_long);  // false: stopping
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
    std::thread thread_;
};

}  // namespace pushsync::sender
