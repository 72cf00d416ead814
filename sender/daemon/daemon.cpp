// SPDX-License-Identifier: BSD-2-Clause
#include "sender/daemon/daemon.hpp"

#include <utility>

#include "sender/daemon/daemon_impl.hpp"
#include "shared/device.hpp"
#include "shared/log_escape.hpp"

namespace pushsync::sender {

namespace {

// Every fcm connection's finished access-token requests go to the metrics file (the transports
// know nothing of it). The writer outlives the transports: the pipeline goes first.
TransportFactory counting_token_fetches(TransportFactory factory, metrics::MetricsWriter* metrics) {
    if (!metrics) return factory;
    return [factory = std::move(factory), metrics](const ConnectionConfig& config, PushTransport::Callback on_response) {
        if (config.platform != Platform::fcm) return factory(config, std::move(on_response));
        ConnectionConfig counted = config;
        counted.on_token_fetch = [metrics](bool got_token) { metrics->count_fcm_token_fetch(got_token); };
        return factory(counted, std::move(on_response));
    };
}

}  // namespace

void Daemon::Impl::start_reload() { reload.start(config.file); }

void Daemon::Impl::finish_reload() {
    std::optional<LoadedConfig> loaded = reload.take();
    if (!loaded) return;
    if (!shutting_down) apply(std::move(*loaded));
    if (reload.again() && !shutting_down) start_reload();
}

void Daemon::Impl::apply(LoadedConfig loaded) {
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
void Daemon::Impl::publish_expiries(const Config* previous) {
    if (!metrics) return;
    if (previous) {
        for (const AppConfig& app : previous->apps) metrics->set_credential_expiry(app.bundle_id, 0);
    }
    for (const AppConfig& app : config.apps) metrics->set_credential_expiry(app.bundle_id, 0);
    for (const CredentialExpiry& e : expiries) metrics->set_credential_expiry(e.bundle_id, e.not_after_unix_s);
}

// One line per client certificate within options.expiry_warning_s of its end (or past it).
void Daemon::Impl::warn_expiring() {
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

void Daemon::Impl::begin_shutdown(const char* why) {
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

// `pushsyncctl queue reset` put a new file at the path: read from that one. What the old
// consumer handed over is in the outbox; what it read but had not committed was dropped with
// the old file by the reset, on purpose.
void Daemon::Impl::reopen_queue_if_reset() {
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

std::unique_ptr<QueueConsumer> Daemon::Impl::make_consumer() {
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
                               counting_token_fetches(make_factory(d.loop.get()), d.metrics.get()),
                               d.writer.get(), d.metrics.get(),
                               [&d](std::vector<std::uint64_t> ids) {
                                   return d.consumer ? d.consumer->forget_unwritten(std::move(ids))
                                                     : std::vector<std::uint64_t>{};
                               }});

    d.wire_loop();
}

Daemon::~Daemon() {
    Impl& d = *impl_;
    if (d.consumer) d.consumer->stop();
    d.watchers.stop_all();
    d.reload.join();
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
