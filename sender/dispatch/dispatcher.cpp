// SPDX-License-Identifier: BSD-2-Clause
#include "sender/dispatch/dispatcher.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "shared/log_escape.hpp"

namespace pushsync::sender {

std::string silent_payload(std::string_view tail) {
    // Serialised, never pasted: a tail is validated before it gets here, but whatever slipped
    // through could still only ever be the value of "tail". ordered_json keeps the contract's
    // key order; dump() without indent writes no spaces.
    nlohmann::ordered_json body;
    body["aps"]["content-available"] = 1;
    body["tail"] = tail;
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Dispatcher::Dispatcher(Deps deps, DispatchSettings settings, const std::vector<ConnectionConfig>& connections,
                       const TransportFactory& factory, std::vector<std::string> connection_names)
    : deps_(std::move(deps)), settings_(settings) {
    connections_.resize(connections.size());
    for (std::size_t i = 0; i < connections.size(); ++i) {
        connections_[i].window = std::max<std::size_t>(1, settings_.window_per_connection) *
                                 std::max<std::uint32_t>(1, connections[i].connections);
        connections_[i].name = i < connection_names.size() ? connection_names[i] : std::to_string(i);
        connections_[i].platform = connections[i].platform;
        connections_[i].transport = make_transport(factory, connections[i], connections_[i], i);
    }
}

std::unique_ptr<PushTransport> Dispatcher::make_transport(const TransportFactory& factory,
                                                          const ConnectionConfig& config, Connection& connection,
                                                          std::size_t index) {
    connection.answers_for = std::make_shared<std::size_t>(index);
    return factory(config, [this, answers_for = connection.answers_for](const PushResponse& response) {
        on_response(*answers_for, response);
    });
}

Dispatcher::~Dispatcher() {
    for (auto& [token, slot] : slots_) deps_.timers.cancel(slot.active.timer);
    for (auto& connection : connections_) deps_.timers.cancel(connection.probe_timer);
    // Transports die before the maps their callbacks touch.
    for (auto& connection : connections_) connection.transport.reset();
    retiring_.clear();
}

std::size_t Dispatcher::transport_in_flight() const noexcept {
    std::size_t n = 0;
    for (const auto& connection : connections_) n += connection.transport ? connection.transport->in_flight() : 0;
    for (const auto& retiring : retiring_) n += retiring.transport->in_flight();
    return n;
}

std::string Dispatcher::fields(const Push& push, std::string_view apns_id) const {
    std::string out = "group=" + log_value(push.group) + " token=" + log_value(token_prefix(push.target.token)) +
                      " tail=" + log_value(push.tail);
    if (!apns_id.empty()) out.append(" apns-id=").append(log_value(apns_id));
    return out;
}

void Dispatcher::record(const Active& active, const PushResponse& response, PushOutcome::Count count,
                        std::optional<EventKind> event, std::string_view note) {
    if (!deps_.recorder) return;
    const Push& push = active.push;
    deps_.recorder->answer({push.target.token, push.group, push.tail, push.target.bundle_id, push.target.environment,
                            push.enqueued_ms, active.sent_us, push.target.platform},
                           response, count);
    if (!event) return;
    std::string reason = response.status != 0 ? std::to_string(response.status) : std::string("no answer");
    if (!response.reason.empty()) reason.append(" ").append(response.reason);
    if (!note.empty()) reason.append(" (").append(note).append(")");
    deps_.recorder->event(*event, push.group, push.target.token, std::move(reason));
}

void Dispatcher::submit(Push push) {
    if (stopping_) return;  // handed back: still in the outbox
    connections_.at(push.target.connection).backlog.push_back(std::move(push));
    pump();
}

void Dispatcher::submit(std::vector<Push> pushes) {
    if (stopping_) return;
    for (Push& push : pushes) connections_.at(push.target.connection).backlog.push_back(std::move(push));
    pump();
}

std::size_t Dispatcher::backlog() const noexcept {
    std::size_t n = 0;
    for (const auto& connection : connections_) n += connection.backlog.size();
    return n;
}

bool Dispatcher::has_room(std::size_t index) const noexcept {
    if (stopping_ || index >= connections_.size()) return false;
    const Connection& connection = connections_[index];
    return !connection.holding && connection.backlog.size() < connection.window;
}

void Dispatcher::pump() {
    if (pumping_ || stopping_) return;
    pumping_ = true;
    struct Done {
        bool& flag;
        ~Done() { flag = false; }
    } done{pumping_};
    for (std::size_t index = 0; index < connections_.size(); ++index) {
        Connection& connection = connections_[index];
        while (!connection.backlog.empty() && connection.busy < connection.window && !stopping_) {
            const auto n = static_cast<std::ptrdiff_t>(
                std::min(connection.backlog.size(), connection.window - connection.busy));
            std::vector<Push> batch(std::make_move_iterator(connection.backlog.begin()),
                                    std::make_move_iterator(connection.backlog.begin() + n));
            connection.backlog.erase(connection.backlog.begin(), connection.backlog.begin() + n);
            std::vector<std::pair<std::string_view, std::string_view>> asked;
            asked.reserve(batch.size());
            for (const Push& push : batch) asked.emplace_back(push.target.token, push.tail);
            std::vector<bool> fresh;
            try {
                fresh = deps_.dedupe.should_send_each(asked);
            } catch (const StoreError& e) {
                // Sending twice is better than not at all (at least once); the store write path
                // reports the same fault on its own.
                deps_.log.error("dedupe.read_failed", "pushes=" + std::to_string(batch.size()) + " error=\"" + log_escape(e.what()) + "\"");
                fresh.assign(batch.size(), true);
            }
            for (std::size_t i = 0; i < batch.size(); ++i) {
                Push& push = batch[i];
                auto [it, created] = slots_.try_emplace(push.target.token);
                if (!created) {
                    join(it->second, it->first, std::move(push));
                    continue;
                }
                if (!fresh[i]) {
                    if (deps_.log.enabled(LogLevel::debug)) deps_.log.debug("push.duplicate", fields(push));
                    slots_.erase(it);
                    finish(push, Outcome::duplicate);
                    continue;
                }
                it->second.connection = index;
                ++connection.busy;
                it->second.active.push = std::move(push);
                launch(it->first, it->second);
            }
        }
    }
}

void Dispatcher::join(Slot& slot, const std::string& token, Push push) {
    if (slot.active.phase == Phase::on_wire) {
        if (slot.next) finish(*slot.next, Outcome::superseded);
        slot.next = std::move(push);
        return;
    }
    // A retry waiting out its backoff or a held push: the newer tail replaces it.
    deps_.timers.cancel(slot.active.timer);
    finish(slot.active.push, Outcome::superseded);
    slot.active = Active{};
    slot.active.push = std::move(push);
    start(token, slot);
}

void Dispatcher::erase(std::unordered_map<std::string, Slot>::iterator it) {
    if (it->second.connection != no_connection) {
        Connection& connection = connections_.at(it->second.connection);
        if (connection.busy > 0) --connection.busy;
    }
    slots_.erase(it);
}

void Dispatcher::start(const std::string& token, Slot& slot) {
    const Push& push = slot.active.push;
    if (!deps_.dedupe.should_send(token, push.tail)) {
        if (deps_.log.enabled(LogLevel::debug)) deps_.log.debug("push.duplicate", fields(push));
        finish(push, Outcome::duplicate);
        advance(token);
        return;
    }
    launch(token, slot);
}

void Dispatcher::launch(const std::string& token, Slot& slot) {
    if (slot.active.push.target.connection == no_connection) return drop_unroutable(token);
    if (connections_.at(slot.active.push.target.connection).holding) {
        hold(token);
        return;
    }
    attempt(token, slot.active);
}

void Dispatcher::attempt(const std::string& token) { attempt(token, slots_.at(token).active); }

void Dispatcher::attempt(const std::string& token, Active& active) {
    Connection& connection = connections_.at(active.push.target.connection);
    active.phase = Phase::on_wire;
    active.timer = 0;
    ++active.attempts;
    active.tag = next_tag_++;
    active.sent_us = DeliveryRecorder::now_us();
    tags_.emplace(active.tag, token);
    PushRequest request;
    request.token = token;
    request.topic = active.push.target.bundle_id;
    request.tail = active.push.tail;
    if (connection.platform == Platform::apns) request.payload = silent_payload(active.push.tail);
    request.expiration_unix_s = deps_.timers.clock().unix_ms() / 1000 + settings_.expiration_s;
    request.tag = active.tag;
    connection.transport->send(std::move(request));
}

void Dispatcher::advance(const std::string& token) {
    const auto it = slots_.find(token);
    if (it == slots_.end()) return;
    advance(it);
}

void Dispatcher::advance(std::unordered_map<std::string, Slot>::iterator it) {
    const std::string& token = it->first;
    Slot& slot = it->second;
    if (!slot.next || stopping_) {
        erase(it);
        return;
    }
    slot.active = Active{};
    slot.active.push = std::move(*slot.next);
    slot.next.reset();
    start(token, slot);
}

void Dispatcher::finish(const Push& push, Outcome outcome) {
    switch (outcome) {
        case Outcome::delivered: ++stats_.delivered; break;
        case Outcome::pruned: ++stats_.pruned; break;
        case Outcome::failed: ++stats_.failed; break;
        case Outcome::superseded: ++stats_.superseded; break;
        case Outcome::duplicate: ++stats_.duplicate; break;
    }
    if (deps_.on_finished) deps_.on_finished(push, outcome);
}

void Dispatcher::fail_unroutable(const Push& push) {
    if (deps_.count) deps_.count(Counter::pushes_failed, 1);
    if (deps_.recorder) deps_.recorder->unroutable(push.group, push.target.token);
    deps_.log.warn("push.unroutable", fields(push) + " bundle_id=" + log_value(push.target.bundle_id) + " environment=" +
                                          std::string(to_string(push.target.environment)) +
                                          " reason=\"app or environment no longer configured\"");
    finish(push, Outcome::failed);
}

void Dispatcher::drop_unroutable(const std::string& token) {
    fail_unroutable(slots_.at(token).active.push);
    advance(token);
}

void Dispatcher::on_response(std::size_t connection, const PushResponse& response) {
    if (draining_) {
        answers_.emplace_back(connection, response);
        return;
    }
    draining_ = true;
    // Nothing queued: process this answer in place, without copying it.
    process(connection, response);
    while (!answers_.empty()) {
        auto [index, answer] = std::move(answers_.front());
        answers_.pop_front();
        process(index, answer);
    }
    draining_ = false;
}

void Dispatcher::process(std::size_t connection_index, const PushResponse& response) {
    const auto tag_it = tags_.find(response.tag);
    if (tag_it == tags_.end()) return;  // not ours, or answered already
    const std::string token = std::move(tag_it->second);
    tags_.erase(tag_it);
    const auto slot_it = slots_.find(token);
    if (slot_it == slots_.end() || slot_it->second.active.tag != response.tag) return;
    Slot& slot = slot_it->second;
    Active& active = slot.active;
    const Push& push = active.push;
    const Verdict verdict = response.verdict ? *response.verdict : classify(response.status, response.reason);

    if (stopping_ && verdict != Verdict::delivered && response.status == 0) {
        deps_.log.debug("push.handed_back", fields(push) + " reason=" + log_value(response.reason));
        erase(slot_it);
        return;
    }
    // An answer from a connection a reload replaced (its index is gone).
    const bool retired = connection_index == no_connection;
    if (response.status == 0 && response.reason == "NotSent") {
        // That connection drained before APNs saw the push: the replacement sends it, and it
        // was no attempt.
        --active.attempts;
        launch(token, slot);
        return;
    }
    if (retired && verdict == Verdict::credentials) {
        // The old credentials were refused: the reload brought new ones, try those.
        launch(token, slot);
        return;
    }
    switch (verdict) {
        case Verdict::delivered: {
            record(active, response, PushOutcome::Count::sent);
            deps_.dedupe.record(token, push.tail);
            if (deps_.count) deps_.count(Counter::pushes_sent, 1);
            if (deps_.log.enabled(LogLevel::info)) {  // the hot path: build the line only when it is kept
                deps_.log.info("push.sent",
                               fields(push, response.apns_id) + " attempt=" + std::to_string(active.attempts));
            }
            finish(push, Outcome::delivered);
            if (!retired && connections_.at(connection_index).holding) release(connection_index);
            advance(slot_it);
            return;
        }
        case Verdict::unregistered:
        case Verdict::token_rejected: {
            PruneOutcome outcome = PruneOutcome::not_found;
            try {
                outcome = verdict == Verdict::unregistered
                              ? deps_.store.prune_unregistered(token, push.target.environment, response.timestamp_ms)
                              : deps_.store.prune_rejected(token, push.target.environment);
            } catch (const StoreError& e) {
                deps_.log.error("store.prune_failed", fields(push) + " error=\"" + log_escape(e.what()) + "\"");
            }
            const char* what = outcome == PruneOutcome::removed                  ? "removed"
                               : outcome == PruneOutcome::kept_reregistered      ? "kept_reregistered"
                               : outcome == PruneOutcome::kept_other_environment ? "kept_other_environment"
                                                                                 : "not_found";
            if (outcome == PruneOutcome::removed && deps_.count) deps_.count(Counter::tokens_pruned, 1);
            record(active, response, PushOutcome::Count::failed,
                   outcome == PruneOutcome::removed ? EventKind::pruned : EventKind::failed,
                   outcome == PruneOutcome::removed ? std::string_view{} : std::string_view(what));
            deps_.log.info("push.rejected", fields(push, response.apns_id) + " status=" +
                                                std::to_string(response.status) + " reason=" + log_value(response.reason) +
                                                " prune=" + what);
            finish(push, Outcome::pruned);
            advance(token);
            return;
        }
        case Verdict::failed: {
            if (deps_.count) deps_.count(Counter::pushes_failed, 1);
            record(active, response, PushOutcome::Count::failed, EventKind::failed);
            deps_.log.warn("push.failed", fields(push, response.apns_id) + " status=" +
                                              std::to_string(response.status) + " reason=" + log_value(response.reason) +
                                              " attempt=" + std::to_string(active.attempts));
            finish(push, Outcome::failed);
            advance(token);
            return;
        }
        case Verdict::credentials: {
            Connection& connection = connections_.at(connection_index);
            connection.holding = true;
            record(active, response, PushOutcome::Count::none);
            alert_credentials(connection_index, response);
            hold(token);
            return;
        }
        case Verdict::retry: {
            if (slot.next) {
                // A newer tail is waiting for this device: send that instead.
                record(active, response, PushOutcome::Count::none);
                finish(push, Outcome::superseded);
                advance(token);
                return;
            }
            if (active.attempts >= settings_.max_attempts) {
                if (deps_.count) deps_.count(Counter::pushes_failed, 1);
                record(active, response, PushOutcome::Count::failed, EventKind::failed,
                       "gave up after " + std::to_string(active.attempts) + " attempts");
                deps_.log.warn("push.failed", fields(push, response.apns_id) + " status=" +
                                                  std::to_string(response.status) + " reason=" + log_value(response.reason) +
                                                  " attempts=" + std::to_string(active.attempts) + " gave_up=1");
                finish(push, Outcome::failed);
                advance(token);
                return;
            }
            record(active, response, PushOutcome::Count::none);
            const std::int64_t delay = std::max(deps_.backoff.delay_ms(active.attempts), response.retry_after_ms);
            ++stats_.retries;
            deps_.log.info("push.retry", fields(push, response.apns_id) + " status=" + std::to_string(response.status) +
                                             " reason=" + log_value(response.reason) + " attempt=" +
                                             std::to_string(active.attempts) + " delay_ms=" + std::to_string(delay));
            active.phase = Phase::waiting_retry;
            active.timer = deps_.timers.after(delay, [this, token] {
                const auto it = slots_.find(token);
                if (it == slots_.end() || it->second.active.phase != Phase::waiting_retry) return;
                it->second.active.timer = 0;
                start(token, it->second);
            });
            return;
        }
    }
}

void Dispatcher::hold(const std::string& token) {
    Active& active = slots_.at(token).active;
    active.phase = Phase::held;
    const std::size_t index = active.push.target.connection;
    Connection& connection = connections_.at(index);
    connection.held.push_back(token);
    if (connection.probe_timer == 0) {
        connection.probe_timer = deps_.timers.after(settings_.hold_probe_ms, [this, index] { probe(index); });
    }
}

void Dispatcher::alert_credentials(std::size_t index, const PushResponse& response) {
    Connection& connection = connections_.at(index);
    const std::int64_t now = deps_.timers.clock().now_ms();
    if (connection.last_alert_ms >= 0 && now - connection.last_alert_ms < settings_.hold_probe_ms) return;
    connection.last_alert_ms = now;
    if (deps_.recorder) {
        deps_.recorder->event(EventKind::credentials, {}, {},
                              std::to_string(response.status) + " " + response.reason + " apps=" + connection.name);
    }
    deps_.log.error("apns.credentials_rejected", "apps=" + connection.name + " status=" +
                                                     std::to_string(response.status) + " reason=" + log_value(response.reason) +
                                                     " held=" + std::to_string(connection.held.size() + 1) +
                                                     " action=\"pushes held; fix the credentials\"");
}

void Dispatcher::probe(std::size_t index) {
    Connection& connection = connections_.at(index);
    connection.probe_timer = 0;
    if (stopping_) return;
    // One held push tries the credentials again; a 200 releases the rest.
    while (!connection.held.empty()) {
        const std::string token = connection.held.back();
        connection.held.pop_back();
        const auto it = slots_.find(token);
        if (it == slots_.end() || it->second.active.phase != Phase::held ||
            it->second.active.push.target.connection != index)
            continue;
        deps_.log.warn("apns.credentials_probe",
                       "apps=" + connection.name + " held=" + std::to_string(connection.held.size() + 1));
        attempt(token);
        break;
    }
    if (!connection.held.empty() && connection.probe_timer == 0) {
        connection.probe_timer = deps_.timers.after(settings_.hold_probe_ms, [this, index] { probe(index); });
    }
}

void Dispatcher::release(std::size_t index) {
    Connection& connection = connections_.at(index);
    connection.holding = false;
    deps_.timers.cancel(connection.probe_timer);
    connection.probe_timer = 0;
    std::vector<std::string> held;
    held.swap(connection.held);
    deps_.log.info("apns.credentials_accepted", "apps=" + connection.name + " released=" + std::to_string(held.size()));
    for (const auto& token : held) {
        const auto it = slots_.find(token);
        if (it == slots_.end() || it->second.active.phase != Phase::held) continue;
        start(token, it->second);
    }
}

void Dispatcher::stop(std::uint32_t deadline_ms) {
    if (stopping_) return;
    stopping_ = true;
    for (auto& connection : connections_) connection.backlog.clear();
    for (auto it = slots_.begin(); it != slots_.end();) {
        Slot& slot = it->second;
        slot.next.reset();
        if (slot.active.phase != Phase::on_wire) {
            deps_.timers.cancel(slot.active.timer);
            if (slot.connection != no_connection) --connections_.at(slot.connection).busy;
            it = slots_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto& connection : connections_) {
        deps_.timers.cancel(connection.probe_timer);
        connection.probe_timer = 0;
        connection.held.clear();
        if (connection.transport) connection.transport->shutdown(deadline_ms);
    }
    for (auto& retiring : retiring_) retiring.transport->shutdown(deadline_ms);
}

void Dispatcher::reconfigure(DispatchSettings settings, const std::vector<ConnectionConfig>& configs,
                             const std::vector<std::optional<std::size_t>>& reuse, const TransportFactory& factory,
                             std::vector<std::string> names, const Reroute& reroute) {
    if (stopping_) return;
    // New transports first: a factory that throws (credentials) leaves everything as it was.
    std::vector<Connection> next(configs.size());
    for (std::size_t j = 0; j < configs.size(); ++j) {
        next[j].window = std::max<std::size_t>(1, settings.window_per_connection) *
                         std::max<std::uint32_t>(1, configs[j].connections);
        next[j].name = j < names.size() ? std::move(names[j]) : std::to_string(j);
        next[j].platform = configs[j].platform;
        if (!reuse.at(j)) next[j].transport = make_transport(factory, configs[j], next[j], j);
    }
    std::vector<bool> kept(connections_.size(), false);
    for (std::size_t j = 0; j < configs.size(); ++j) {
        if (!reuse[j]) continue;
        Connection& old = connections_.at(*reuse[j]);
        kept[*reuse[j]] = true;
        next[j].transport = std::move(old.transport);
        next[j].answers_for = std::move(old.answers_for);
        *next[j].answers_for = j;
        next[j].holding = old.holding;
        next[j].held = std::move(old.held);
        next[j].last_alert_ms = old.last_alert_ms;
        deps_.timers.cancel(old.probe_timer);  // it names the old index
        if (next[j].holding) {
            next[j].probe_timer = deps_.timers.after(settings.hold_probe_ms, [this, j] { probe(j); });
        }
    }
    // Replaced connections drain; what waits for them moves below.
    for (std::size_t i = 0; i < connections_.size(); ++i) {
        Connection& old = connections_[i];
        deps_.timers.cancel(old.probe_timer);
        if (kept[i]) continue;
        *old.answers_for = no_connection;
        old.transport->drain();
        deps_.log.info("apns.connection_draining", "apps=" + old.name + " on_wire=" +
                                                       std::to_string(old.transport->in_flight()) +
                                                       " why=\"reload replaced its configuration\"");
        retiring_.push_back(Retiring{std::move(old.transport), old.name});
    }
    const auto route = [&](const Target& target) { return reroute(target).value_or(no_connection); };
    // Backlogs in their order, each push to its device's new connection.
    std::vector<Push> dropped;
    for (Connection& old : connections_) {
        for (Push& push : old.backlog) {
            push.target.connection = route(push.target);
            if (push.target.connection == no_connection) {
                dropped.push_back(std::move(push));
            } else {
                next[push.target.connection].backlog.push_back(std::move(push));
            }
        }
    }
    std::vector<std::string> restart;     // held for a connection that was replaced: go again now
    std::vector<std::string> unroutable;  // waiting (retry or held) with no connection left
    for (auto& [token, slot] : slots_) {
        Active& active = slot.active;
        const std::size_t was = active.push.target.connection;
        active.push.target.connection = route(active.push.target);
        if (slot.next) {
            slot.next->target.connection = route(slot.next->target);
            if (slot.next->target.connection == no_connection) {
                dropped.push_back(std::move(*slot.next));
                slot.next.reset();
            }
        }
        slot.connection = active.push.target.connection != no_connection ? active.push.target.connection
                          : slot.next                                    ? slot.next->target.connection
                                                                         : no_connection;
        if (active.phase == Phase::on_wire) continue;  // its answer comes from where it went
        if (active.push.target.connection == no_connection) {
            deps_.timers.cancel(active.timer);
            active.timer = 0;
            unroutable.push_back(token);
        } else if (active.phase == Phase::held && (was >= kept.size() || !kept[was])) {
            restart.push_back(token);
        }
    }
    connections_ = std::move(next);
    settings_ = settings;
    for (Connection& connection : connections_) connection.busy = 0;
    for (const auto& [token, slot] : slots_) {
        if (slot.connection != no_connection) ++connections_[slot.connection].busy;
    }
    for (const Push& push : dropped) fail_unroutable(push);
    for (const std::string& token : unroutable) {
        if (slots_.count(token)) drop_unroutable(token);
    }
    for (const std::string& token : restart) {
        const auto it = slots_.find(token);
        if (it != slots_.end() && it->second.active.phase == Phase::held) start(token, it->second);
    }
    pump();
}

void Dispatcher::collect_retired() {
    for (auto it = retiring_.begin(); it != retiring_.end();) {
        if (!it->transport->drained()) {
            ++it;
            continue;
        }
        deps_.log.info("apns.connection_retired", "apps=" + it->name);
        it = retiring_.erase(it);
    }
}

}  // namespace pushsync::sender
