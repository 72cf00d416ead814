// SPDX-License-Identifier: BSD-2-Clause
// Daemon's loop wiring (daemon_impl.hpp): the watchers, their handlers, the hand-over from the
// consumer thread and the flush before the loop blocks.
#include <algorithm>
#include <csignal>
#include <string>

#include "sender/daemon/daemon_impl.hpp"
#include "sender/move_append.hpp"
#include "shared/log_escape.hpp"

namespace pushsync::sender {

void Daemon::Impl::wire_loop() {
    watchers.bind_and_start<&Impl::on_inbox>(inbox_watcher, "on_inbox");
    watchers.bind_and_start<&Impl::on_stop>(stop_watcher, "on_stop");
    ev_signal_set(&sigterm_watcher, SIGTERM);
    watchers.bind_and_start<&Impl::on_signal>(sigterm_watcher, "on_signal");
    ev_signal_set(&sigint_watcher, SIGINT);
    watchers.bind_and_start<&Impl::on_signal>(sigint_watcher, "on_signal");
    watchers.bind<&Impl::on_timer>(timer_watcher, "on_timer");  // armed by arm_timer()
    ev_timer_set(&heartbeat_watcher, 0.0, 1.0);
    watchers.bind_and_start<&Impl::on_heartbeat>(heartbeat_watcher, "on_heartbeat");
    watchers.bind_and_start<&Impl::on_prepare>(prepare_watcher, "on_prepare");
    ev_signal_set(&sighup_watcher, SIGHUP);
    watchers.bind_and_start<&Impl::on_sighup>(sighup_watcher, "on_sighup");
    watchers.bind_and_start<&Impl::on_reload_loaded>(reload_watcher, "on_reload_loaded");
    ev_timer_set(&expiry_watcher, 86400.0, 86400.0);
    watchers.bind_and_start<&Impl::on_expiry_check>(expiry_watcher, "on_expiry_check");
    watchers.bind<&Impl::on_shutdown_check>(shutdown_watcher, "on_shutdown_check");  // begin_shutdown()
}

// Entries in the loop or on their way to it: an upper bound for QueueConsumer's bound (an
// entry taken from the inbox counts in `accepting` until loop_live has it).
std::size_t Daemon::Impl::in_loop() {
    std::lock_guard lock(inbox_mutex);
    return inbox_entries + accepting + loop_live.load();
}

void Daemon::Impl::publish_live() {
    const std::size_t live = pipeline->ledger().live_entries();
    loop_live_peak = std::max(loop_live_peak, live);
    loop_live.store(live);
}

void Daemon::Impl::hand_over(std::vector<OutboxEntry> entries, bool stored) {
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
void Daemon::Impl::flush_pipeline() {
    pipeline->stored_below(stored_below.load());
    pipeline->flush();
    publish_live();
    for (std::size_t i = 0; i < unadded_counts.size(); ++i) {
        if (unadded_counts[i] == 0) continue;
        queue->add(static_cast<Counter>(i), unadded_counts[i]);
        unadded_counts[i] = 0;
    }
}

void Daemon::Impl::arm_timer() {
    ev_timer_stop(loop.get(), &timer_watcher);
    const auto deadline = timers.next_deadline();
    if (!deadline) return;
    const double delay = static_cast<double>(std::max<std::int64_t>(0, *deadline - clock.now_ms())) / 1000.0;
    ev_timer_set(&timer_watcher, delay, 0.0);
    ev_timer_start(loop.get(), &timer_watcher);
}

void Daemon::Impl::on_inbox(ev_async&) {
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

void Daemon::Impl::on_stop(ev_async&) {
    begin_shutdown("request");
}

void Daemon::Impl::on_signal(ev_signal& w) {
    begin_shutdown(w.signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

void Daemon::Impl::on_sighup(ev_signal&) {
    if (shutting_down) return;
    log.info("config.reloading", "config=" + log_value(config.file) + " why=SIGHUP");
    start_reload();
}

void Daemon::Impl::on_reload_loaded(ev_async&) {
    finish_reload();
}

void Daemon::Impl::on_expiry_check(ev_timer&) {
    warn_expiring();
}

void Daemon::Impl::on_timer(ev_timer&) {
    timers.run_due();
}

void Daemon::Impl::on_heartbeat(ev_timer&) {
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
void Daemon::Impl::on_prepare(ev_prepare&) {
    flush_pipeline();
    arm_timer();
}

void Daemon::Impl::on_shutdown_check(ev_timer&) {
    const bool drained = pipeline->drained();
    if (drained || clock.now_ms() >= shutdown_deadline_ms) {
        flush_pipeline();
        log.info("sender.stopped", std::string(drained ? "drained=1" : "drained=0") + " handed_back_rounds=" +
                                       std::to_string(pipeline->ledger().open_rounds()));
        stopped_cleanly = true;
        ev_break(loop.get(), EVBREAK_ALL);
    }
}

void Daemon::Impl::report_failed_callback(const char* callback, const std::string& what) {
    log.error("sender.callback_failed", std::string("callback=") + callback + " error=\"" + log_escape(what) + "\"");
}

}  // namespace pushsync::sender
