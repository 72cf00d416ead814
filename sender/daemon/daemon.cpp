#include "sender/daemon/daemon.hpp"

#include <ev.h>

#include <array>
#include <atomic>
#include <csignal>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "sender/clock.hpp"
#include "sender/intake/consumer.hpp"
#include "sender/daemon/loop_watcher.hpp"
#include "sender/daemon/secrets.hpp"
#include "sender/move_append.hpp"
#include "sender/pipeline.hpp"
#include "sender/dispatch/store_writer.hpp"
#include "sender/timers.hpp"
#include "shared/device.hpp"
#include "shared/log_escape.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"

namespace pushsync::sender {

namespace {

struct LoopDeleter {
    void operator()(struct ev_loop* loop) const noexcept { ev_loop_destroy(loop); }
};

// What a reload read: a checked configuration with its routes' credentials loaded, or why not.
struct LoadedConfig {
    std::optional<Config> config;
    std::optional<Routes> routes;
    std::vector<CredentialExpiry> expiries;
    std::string error;  // "FILE:LINE: KEY: PROBLEM"
};

LoadedConfig load_for_reload(const std::string& path, const DaemonOptions& options) {
    LoadedConfig loaded;
    try {
        Config config = load_config(path);
        check_secret_files(config);
        Routes routes(config);
        if (options.load_credentials) loaded.expiries = options.load_credentials(config, routes);
        loaded.config = std::move(config);
        loaded.routes = std::move(routes);
    } catch (const ConfigError& e) {
        loaded.error = e.what();
    } catch (const std::exception& e) {
        loaded.error = path + ": " + e.what();
    }
    return loaded;
}

// Keys the sender uses only when it starts (the store and the queue it opened): a reload that
// changes one is refused as a whole.
std::vector<std::string> restart_only_changes(const Config& running, const Config& loaded) {
    std::vector<std::string> keys;
    const auto check = [&](const char* key, bool same) {
        if (!same) keys.emplace_back(key);
    };
    check("store.path", running.store.path == loaded.store.path);
    check("store.map_size", running.store.map_size == loaded.store.map_size);
    check("store.sync", running.store.sync == loaded.store.sync);
    check("store.sync_interval_ms", running.store.sync_interval_ms == loaded.store.sync_interval_ms);
    check("queue.path", running.queue.path == loaded.queue.path);
    check("queue.capacity", running.queue.capacity == loaded.queue.capacity);
    return keys;
}


}  // namespace

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
    ev_async reload_watcher{};  // the reload thread finished
    ev_timer expiry_watcher{};  // daily certificate expiry check
    LoopWatchers<Impl> watchers{loop.get(), *this};  // every watcher above, stopped together
    bool shutting_down = false;
    bool stopped_cleanly = false;  // the loop ended through the shutdown path, not a failed callback
    std::int64_t shutdown_deadline_ms = 0;

    // Reload: the files are read on reload_thread, applied on the loop.
    std::thread reload_thread;
    std::mutex reload_mutex;
    std::optional<LoadedConfig> reload_result;
    bool reloading = false;
    bool reload_again = false;  // SIGHUP while reading: read once more after
    std::vector<CredentialExpiry> expiries;

    Impl(const Config& c, Logger& l, DaemonOptions o) : config(c), log(l), options(std::move(o)) {}

    void start_reload() {
        if (reloading) {
            reload_again = true;
            return;
        }
        reloading = true;
        if (reload_thread.joinable()) reload_thread.join();
        reload_thread = std::thread([this, path = config.file] {
            LoadedConfig loaded = load_for_reload(path, options);
            {
                std::lock_guard lock(reload_mutex);
                reload_result = std::move(loaded);
            }
            ev_async_send(loop.get(), &reload_watcher);
        });
    }

    void finish_reload() {
        std::optional<LoadedConfig> loaded;
        {
            std::lock_guard lock(reload_mutex);
            loaded.swap(reload_result);
        }
        if (!loaded) return;
        reload_thread.join();
        reloading = false;
        if (!shutting_down) apply(std::move(*loaded));
        if (reload_again && !shutting_down) {
            reload_again = false;
            start_reload();
        }
    }

    void apply(LoadedConfig loaded) {
        const std::string keep = " action=\"the running configuration stays in force\"";
        if (!loaded.error.empty()) {
            log.error("config.reload_failed",
                      "config=" + log_value(config.file) + " error=" + log_value(loaded.error) + keep);
            return;
        }
        if (const auto keys = restart_only_changes(config, *loaded.config); !keys.empty()) {
            std::string list;
            for (const auto& key : keys) list.append(list.empty() ? "" : ",").append(key);
            log.error("config.reload_refused", "config=" + log_value(config.file) + " keys=" + list +
                                                   " why=\"these change only with a restart; nothing was applied\"" +
                                                   keep);
            return;
        }
        const std::size_t connections = loaded.routes->connections().size();
        std::size_t replaced = 0;
        try {
            replaced = pipeline->reconfigure(*loaded.config, std::move(*loaded.routes));
        } catch (const std::exception& e) {
            log.error("config.reload_failed",
                      "config=" + log_value(config.file) + " error=" + log_value(e.what()) + keep);
            return;
        }
        const Config previous = std::exchange(config, std::move(*loaded.config));
        expiries = std::move(loaded.expiries);
        publish_expiries(&previous);
        log.set_level(config.sender.log_level);
        log.info("config.reloaded", "config=" + log_value(config.file) + " apps=" + std::to_string(config.apps.size()) +
                                        " connections=" + std::to_string(connections) +
                                        " replaced=" + std::to_string(replaced));
        warn_expiring();
    }

    // pushsync_credential_expiry_timestamp_seconds: each certificate's notAfter, 0 for apps
    // without one (token keys do not expire) and for apps a reload removed.
    void publish_expiries(const Config* previous) {
        if (!metrics) return;
        if (previous) {
            for (const AppConfig& app : previous->apps) metrics->set_credential_expiry(app.bundle_id, 0);
        }
        for (const AppConfig& app : config.apps) metrics->set_credential_expiry(app.bundle_id, 0);
        for (const CredentialExpiry& e : expiries) metrics->set_credential_expiry(e.bundle_id, e.not_after_unix_s);
    }

    // One line per client certificate within options.expiry_warning_s of its end (or past it).
    void warn_expiring() {
        const std::int64_t now_s = clock.unix_ms() / 1000;
        for (const CredentialExpiry& e : expiries) {
            const std::string fields = "bundle_id=" + log_value(e.bundle_id) + " cert_file=" + log_value(e.cert_file) +
                                       " not_after=" + format_rfc3339(e.not_after_unix_s * 1000);
            if (e.not_after_unix_s <= now_s) {
                log.error("credential.expired", fields + " action=\"APNs refuses it: renew it and reload\"");
            } else if (e.not_after_unix_s - now_s < options.expiry_warning_s) {
                log.warn("credential.expiring", fields + " days_left=" +
                                                    std::to_string((e.not_after_unix_s - now_s) / 86400) +
                                                    " action=\"renew it and reload\"");
            }
        }
    }

    void begin_shutdown(const char* why) {
        if (shutting_down) return;
        shutting_down = true;
        log.info("sender.stopping", std::string("why=") + why + " on_wire=" +
                                        std::to_string(pipeline->dispatcher().on_wire()) +
                                        " grace_ms=" + std::to_string(options.shutdown_grace_ms));
        consumer->stop();  // no more entries taken; what was handed over is in the outbox
        pipeline->stop(options.shutdown_grace_ms);
        shutdown_deadline_ms = clock.now_ms() + options.shutdown_grace_ms;
        ev_timer_set(&shutdown_watcher, 0.0, 0.02);
        ev_timer_start(loop.get(), &shutdown_watcher);
    }

    // Entries in the loop or on their way to it: an upper bound for QueueConsumer's bound (an
    // entry taken from the inbox counts in `accepting` until loop_live has it).
    std::size_t in_loop() {
        std::lock_guard lock(inbox_mutex);
        return inbox_entries + accepting + loop_live.load();
    }
    void publish_live() {
        const std::size_t live = pipeline->ledger().live_entries();
        loop_live_peak = std::max(loop_live_peak, live);
        loop_live.store(live);
    }
    void hand_over(std::vector<OutboxEntry> entries, bool stored) {
        {
            std::lock_guard lock(inbox_mutex);
            inbox_entries += entries.size();
            if (!inbox.empty() && inbox.back().stored == stored) {
                move_append(inbox.back().entries, std::move(entries));
            } else {
                inbox.push_back(Handed{std::move(entries), stored});
            }
        }
        ev_async_send(loop.get(), &inbox_watcher);
    }

    // Writes what the loop collected; outbox removals only of entries the consumer has stored.
    void flush_pipeline() {
        pipeline->stored_below(stored_below.load());
        pipeline->flush();
        publish_live();
        for (std::size_t i = 0; i < unadded_counts.size(); ++i) {
            if (unadded_counts[i] == 0) continue;
            queue->add(static_cast<Counter>(i), unadded_counts[i]);
            unadded_counts[i] = 0;
        }
    }

    void arm_timer() {
        ev_timer_stop(loop.get(), &timer_watcher);
        const auto deadline = timers.next_deadline();
        if (!deadline) return;
        const double delay = static_cast<double>(std::max<std::int64_t>(0, *deadline - clock.now_ms())) / 1000.0;
        ev_timer_set(&timer_watcher, delay, 0.0);
        ev_timer_start(loop.get(), &timer_watcher);
    }

    // What a guarded C callback (sender/c_callback.hpp) reports when an exception escaped it;
    // the guard then stops the loop and run() returns 1 (stopped_cleanly stays false).
    auto callback_failed(const char* callback) noexcept {
        return [this, callback](const std::string& what) {
            log.error("sender.callback_failed", std::string("callback=") + callback + " error=\"" + log_escape(what) + "\"");
        };
    }

    void on_inbox(ev_async&) {
        std::vector<Handed> batches;
        {
            std::lock_guard lock(inbox_mutex);
            batches.swap(inbox);
            accepting = inbox_entries;
            inbox_entries = 0;
        }
        for (const Handed& batch : batches) pipeline->accept(batch.entries, batch.stored);
        publish_live();
        {
            std::lock_guard lock(inbox_mutex);
            accepting = 0;
        }
        pipeline->stored_below(stored_below.load());
    }
    void on_stop(ev_async&) {
        begin_shutdown("request");
    }
    void on_signal(ev_signal& w) {
        begin_shutdown(w.signum == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    void on_sighup(ev_signal&) {
        if (shutting_down) return;
        log.info("config.reloading", "config=" + log_value(config.file) + " why=SIGHUP");
        start_reload();
    }
    void on_reload_loaded(ev_async&) {
        finish_reload();
    }
    void on_expiry_check(ev_timer&) {
        warn_expiring();
    }
    void on_timer(ev_timer&) {
        timers.run_due();
    }
    // `pushsyncctl queue reset` put a new file at the path: read from that one. What the old
    // consumer handed over is in the outbox; what it read but had not committed was dropped with
    // the old file by the reset, on purpose.
    std::string last_reopen_error;
    void reopen_queue_if_reset() {
        if (!queue->retired() || shutting_down) return;
        std::unique_ptr<Queue> fresh;
        try {
            fresh = Queue::open(config.queue.path, config.queue.capacity);
        } catch (const QueueError& e) {
            // Tried again at the next heartbeat; meanwhile nginx refuses notifies into the old file.
            // Logged when the problem changes, not every heartbeat until someone resets the file.
            if (e.what() != last_reopen_error)
                log.error("queue.reopen_failed", "path=" + log_value(config.queue.path) + " error=\"" + log_escape(e.what()) + "\"");
            last_reopen_error = e.what();
            return;
        }
        last_reopen_error.clear();
        consumer->stop();
        divert_from = consumer->overflow_from();  // what waits in the outbox still comes back
        consumer.reset();
        queue = std::move(fresh);
        consumer = make_consumer();
        consumer->start();
        log.warn("queue.reopened", "path=" + log_value(config.queue.path) + " why=\"the file was reset or broken\"");
    }

    std::unique_ptr<QueueConsumer> make_consumer() {
        auto consumer = std::make_unique<QueueConsumer>(*queue, *store, log, [this](std::vector<OutboxEntry> entries) {
            hand_over(std::move(entries), false);
        }, [this](std::uint64_t below) {
            // Only ever forward: a queue file that was reset continues the position space.
            std::uint64_t seen = stored_below.load();
            while (below > seen && !stored_below.compare_exchange_weak(seen, below)) {
            }
            ev_async_send(this->loop.get(), &inbox_watcher);  // finished entries may leave the outbox now
        });
        consumer->bound_loop(
            options.max_loop_entries, [this] { return in_loop(); },
            [this](std::vector<OutboxEntry> entries) { hand_over(std::move(entries), true); },
            std::exchange(divert_from, std::nullopt));
        return consumer;
    }
    // Set by run(): the start-up took the outbox only below this id.
    std::optional<std::uint64_t> divert_from;

    void on_heartbeat(ev_timer&) {
        reopen_queue_if_reset();
        queue->heartbeat(clock.unix_ms());
        if (log.enabled(LogLevel::debug)) {
            const auto& stats = pipeline->dispatcher().stats();
            log.debug("sender.stats", "on_wire=" + std::to_string(pipeline->dispatcher().on_wire()) +
                                          " backlog=" + std::to_string(pipeline->dispatcher().backlog()) +
                                          " rounds_expanding=" + std::to_string(pipeline->expanding()) +
                                          " rounds_waiting=" + std::to_string(pipeline->waiting_rounds()) +
                                          " rounds_open=" + std::to_string(pipeline->ledger().open_rounds()) +
                                          " outbox_live=" + std::to_string(pipeline->ledger().live_entries()) +
                                          " outbox_live_peak=" + std::to_string(loop_live_peak) +
                                          " outbox_waiting=" + std::to_string(consumer->waiting_in_outbox()) +
                                          " delivered=" + std::to_string(stats.delivered) +
                                          " failed=" + std::to_string(stats.failed) +
                                          " retries=" + std::to_string(stats.retries));
        }
    }
    // Before the loop blocks: commit what this iteration collected and re-arm the one timer.
    void on_prepare(ev_prepare&) {
        flush_pipeline();
        arm_timer();
    }
    void on_shutdown_check(ev_timer&) {
        const bool drained = pipeline->drained();
        if (drained || clock.now_ms() >= shutdown_deadline_ms) {
            flush_pipeline();
            log.info("sender.stopped", std::string(drained ? "drained=1" : "drained=0") + " handed_back_rounds=" +
                                           std::to_string(pipeline->ledger().open_rounds()));
            stopped_cleanly = true;
            ev_break(loop.get(), EVBREAK_ALL);
        }
    }
};

Daemon::Daemon(const Config& config, Logger& log, MakeFactory make_factory, DaemonOptions options)
    : impl_(std::make_unique<Impl>(config, log, options)) {
    Impl& d = *impl_;
    if (!d.loop) throw std::runtime_error("cannot create the event loop");
    d.store = std::make_unique<Store>(StoreOptions::from(config.store));
    d.queue = Queue::open(config.queue.path, config.queue.capacity);
    d.writer = std::make_unique<StoreWriter>(*d.store, log);
    const std::string metrics_path = metrics::path_beside_queue(config.queue.path);
    try {
        d.metrics = metrics::MetricsWriter::open(metrics_path);
    } catch (const std::exception& e) {
        log.error("metrics.unavailable", "error=\"" + std::string(e.what()) + "\"");
    }
    Routes routes(config);
    if (d.options.load_credentials) d.expiries = d.options.load_credentials(config, routes);
    d.pipeline = std::make_unique<Pipeline>(
        config, std::move(routes), Pipeline::Deps{*d.store, d.timers, d.random, log,
                               [&d](Counter counter, std::uint64_t n) {
                                   if (counter < Counter::count_) d.unadded_counts[static_cast<std::size_t>(counter)] += n;
                               },
                               make_factory(d.loop.get()), d.writer.get(), d.metrics.get(),
                               [&d](std::vector<std::uint64_t> ids) {
                                   return d.consumer ? d.consumer->forget_unwritten(std::move(ids))
                                                     : std::vector<std::uint64_t>{};
                               }});

    d.watchers.bind_and_start<&Impl::on_inbox>(d.inbox_watcher, "on_inbox");
    d.watchers.bind_and_start<&Impl::on_stop>(d.stop_watcher, "on_stop");
    ev_signal_set(&d.sigterm_watcher, SIGTERM);
    d.watchers.bind_and_start<&Impl::on_signal>(d.sigterm_watcher, "on_signal");
    ev_signal_set(&d.sigint_watcher, SIGINT);
    d.watchers.bind_and_start<&Impl::on_signal>(d.sigint_watcher, "on_signal");
    d.watchers.bind<&Impl::on_timer>(d.timer_watcher, "on_timer");  // armed by arm_timer()
    ev_timer_set(&d.heartbeat_watcher, 0.0, 1.0);
    d.watchers.bind_and_start<&Impl::on_heartbeat>(d.heartbeat_watcher, "on_heartbeat");
    d.watchers.bind_and_start<&Impl::on_prepare>(d.prepare_watcher, "on_prepare");
    ev_signal_set(&d.sighup_watcher, SIGHUP);
    d.watchers.bind_and_start<&Impl::on_sighup>(d.sighup_watcher, "on_sighup");
    d.watchers.bind_and_start<&Impl::on_reload_loaded>(d.reload_watcher, "on_reload_loaded");
    ev_timer_set(&d.expiry_watcher, 86400.0, 86400.0);
    d.watchers.bind_and_start<&Impl::on_expiry_check>(d.expiry_watcher, "on_expiry_check");
    d.watchers.bind<&Impl::on_shutdown_check>(d.shutdown_watcher, "on_shutdown_check");  // begin_shutdown()
}

Daemon::~Daemon() {
    Impl& d = *impl_;
    if (d.consumer) d.consumer->stop();
    d.watchers.stop_all();
    if (d.reload_thread.joinable()) d.reload_thread.join();
    d.consumer.reset();
    d.flush_pipeline();
    d.pipeline.reset();  // transports close their connections while the loop still exists
    d.writer->stop();    // everything handed to it is in the store before the process exits
}

int Daemon::run() {
    Impl& d = *impl_;
    d.queue->heartbeat(d.clock.unix_ms());
    // At most the loop's bound at once; the rest comes back through the consumer as the loop has room.
    const std::size_t recovered = d.pipeline->recover(d.options.max_loop_entries);
    if (d.options.max_loop_entries != 0 && recovered == d.options.max_loop_entries) {
        d.divert_from = d.pipeline->recovered_below();
    }
    d.publish_live();
    d.consumer = d.make_consumer();
    d.log.info("sender.started", "config=" + d.config.file + " connections=" +
                                     std::to_string(d.pipeline->routes().connections().size()) +
                                     " recovered=" + std::to_string(recovered) +
                                     " coalesce_ms=" + std::to_string(d.config.delivery.coalesce_ms));
    d.publish_expiries(nullptr);
    d.warn_expiring();
    d.consumer->start();
    ev_run(d.loop.get(), 0);
    if (!d.stopped_cleanly) {
        d.log.error("sender.failed", "why=event loop stopped by a failed callback");
        return 1;
    }
    return 0;
}

void Daemon::request_stop() { ev_async_send(impl_->loop.get(), &impl_->stop_watcher); }

}  // namespace pushsync::sender
