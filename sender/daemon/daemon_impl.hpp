// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Daemon's state, shared by its two halves: daemon.cpp (the lifecycle: opening the store and the
// queue, the consumer, reloads, certificate expiry, shutdown) and daemon_loop.cpp (the loop's
// wiring: its watchers and their handlers, the hand-over from the consumer thread, the flush
// before the loop blocks). Private to sender/daemon/.
#include <ev.h>

#include <array>
#include <atomic>
#include <mutex>
#include <optional>
#include <vector>

#include "sender/clock.hpp"
#include "sender/daemon/daemon.hpp"
#include "sender/loop_watcher.hpp"
#include "sender/daemon/reload.hpp"
#include "sender/dispatch/store_writer.hpp"
#include "sender/intake/consumer.hpp"
#include "sender/pipeline.hpp"
#include "sender/timers.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"

namespace pushsync::sender {

struct LoopDeleter {
    void operator()(struct ev_loop* loop) const noexcept { ev_loop_destroy(loop); }
};

struct Daemon::Impl {
    Config config;  // the running configuration: a reload replaces it
    Logger& log;
    DaemonOptions options;
    SystemClock clock;
    SystemRandom random;
    std::unique_ptr<struct ev_loop, LoopDeleter> loop{ev_loop_new(EVFLAG_AUTO)};
    TimerQueue timers{clock};
    std::unique_ptr<Store> store;
    std::unique_ptr<Queue> queue;
    std::unique_ptr<StoreWriter> writer;
    std::unique_ptr<metrics::MetricsWriter> metrics;  // null: unavailable (logged), pushes go on
    std::unique_ptr<Pipeline> pipeline;
    std::unique_ptr<QueueConsumer> consumer;

    // The loop's counts, added to the queue file's counters once per loop iteration: every
    // Queue::add first checks the file (an fstat), which a push would otherwise pay for.
    std::array<std::uint64_t, static_cast<std::size_t>(Counter::count_)> unadded_counts{};

    // Hand-over from the consumer thread, in id order: batches handed on at once (not stored yet)
    // and batches taken back from the outbox (stored).
    struct Handed {
        std::vector<OutboxEntry> entries;
        bool stored = false;
    };
    std::mutex inbox_mutex;
    std::vector<Handed> inbox;
    std::size_t inbox_entries = 0;  // guarded by inbox_mutex, with `accepting`
    std::size_t accepting = 0;      // taken from the inbox, not yet in loop_live
    // The Ledger's live entries, published by the loop for the consumer's bound (in_loop()).
    std::atomic<std::size_t> loop_live{0};
    std::size_t loop_live_peak = 0;  // the most live at once since the start (sender.stats)
    std::atomic<std::uint64_t> stored_below{0};  // the consumer's outbox writes, for the Ledger

    ev_async inbox_watcher{};
    ev_async stop_watcher{};
    ev_signal sigterm_watcher{};
    ev_signal sigint_watcher{};
    ev_timer timer_watcher{};
    ev_timer heartbeat_watcher{};
    ev_timer shutdown_watcher{};
    ev_prepare prepare_watcher{};
    ev_signal sighup_watcher{};
    ev_async reload_watcher{};  // the reload reader has a result
    ev_timer expiry_watcher{};  // daily certificate expiry check
    LoopWatchers<Impl> watchers{loop.get(), *this};  // every watcher above, stopped together
    bool shutting_down = false;
    bool stopped_cleanly = false;  // the loop ended through the shutdown path, not a failed callback
    std::int64_t shutdown_deadline_ms = 0;

    // Reload: the files are read off the loop, applied on it.
    ReloadReader reload{options, [this] { ev_async_send(loop.get(), &reload_watcher); }};
    std::vector<CredentialExpiry> expiries;

    std::string last_reopen_error;  // reopen_queue_if_reset() logs each problem once
    // Set by run(): the start-up took the outbox only below this id.
    std::optional<std::uint64_t> divert_from;

    Impl(const Config& c, Logger& l, DaemonOptions o) : config(c), log(l), options(std::move(o)) {}

    // ---- lifecycle (daemon.cpp) ----
    void start_reload();
    void finish_reload();
    void apply(LoadedConfig loaded);
    void publish_expiries(const Config* previous);
    void warn_expiring();
    void begin_shutdown(const char* why);
    void reopen_queue_if_reset();
    std::unique_ptr<QueueConsumer> make_consumer();

    // ---- loop wiring (daemon_loop.cpp) ----
    void wire_loop();  // binds and starts the watchers
    std::size_t in_loop();
    void publish_live();
    void hand_over(std::vector<OutboxEntry> entries, bool stored);
    void flush_pipeline();
    void arm_timer();
    // What a guarded C callback (loop_watcher.hpp) reports when an exception escaped it; the
    // guard then stops the loop and run() returns 1 (stopped_cleanly stays false).
    auto callback_failed(const char* callback) noexcept {
        return [this, callback](const std::string& what) { report_failed_callback(callback, what); };
    }
    void report_failed_callback(const char* callback, const std::string& what);

    // The watchers' handlers.
    void on_inbox(ev_async&);
    void on_stop(ev_async&);
    void on_signal(ev_signal& w);
    void on_sighup(ev_signal&);
    void on_reload_loaded(ev_async&);
    void on_expiry_check(ev_timer&);
    void on_timer(ev_timer&);
    void on_heartbeat(ev_timer&);
    void on_prepare(ev_prepare&);
    void on_shutdown_check(ev_timer&);
};

}  // namespace pushsync::sender
