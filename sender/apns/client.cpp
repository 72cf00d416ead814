// SPDX-License-Identifier: BSD-2-Clause
#include "sender/apns/client.hpp"

#include <ev.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "sender/apns/jwt.hpp"
#include "sender/loop_watcher.hpp"
#include "sender/net/connection_pool.hpp"
#include "sender/net/tls_context.hpp"
#include "shared/log_escape.hpp"

namespace pushsync::sender {

namespace {

nghttp2_nv header(std::string_view name, std::string_view value, std::uint8_t flags = NGHTTP2_NV_FLAG_NONE) {
    return nghttp2_nv{const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(name.data())),
                      const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(value.data())), name.size(),
                      value.size(), flags};
}

TlsClientOptions tls_options(const ConnectionConfig& config) {
    TlsClientOptions options;
    options.ca_file = config.ca_file;
    if (config.auth.type == AuthType::certificate) {
        options.cert_file = config.auth.cert_file;
        options.key_file = config.auth.key_file;
    }
    return options;
}

std::shared_ptr<JwtCache> jwt_cache_for(const ConnectionConfig& config) {
    if (config.auth.type != AuthType::token) return nullptr;
    if (config.jwt_cache) return config.jwt_cache;
    return std::make_shared<JwtCache>(Es256Key::from_pem_file(config.auth.key_file), config.auth.team_id,
                                      config.auth.key_id);
}

std::string token_prefix(const std::string& token) { return token.substr(0, 8); }

}  // namespace

struct ApnsClient::Impl final : ConnectionOwner {
    struct Pending {
        PushRequest request;
        double deadline = 0;
        H2Link* link = nullptr;  // set while on the wire
        std::int32_t stream_id = 0;
        std::uint64_t jwt_generation = 0;
        bool retried_expired_token = false;
    };

    struct ev_loop* loop;
    ConnectionConfig config;
    Callback on_response;
    TransportLogger log;
    Endpoint endpoint;
    std::shared_ptr<const TlsContext> tls;
    std::shared_ptr<JwtCache> jwt;
    std::string name;

    std::unordered_map<std::uint64_t, Pending> pending;
    std::deque<std::uint64_t> waiting;                        // not yet on the wire; may hold stale ids
    std::deque<std::pair<double, std::uint64_t>> deadlines;  // in send() order, hence sorted
    std::vector<PushResponse> completions;                    // answered, callback not yet run
    std::vector<PushResponse> delivering;                     // deliver()'s batch; keeps its capacity
    std::string path_buffer;                                  // open_stream()'s, reused per push
    std::vector<nghttp2_nv> header_buffer;                    // open_stream()'s, reused per push
    ApnsClientStats counters;
    ev_timer timeout_timer{};
    ev_timer kick{};  // a zero-delay timer: deferred work runs once per loop iteration, batched
    ev_timer shutdown_timer{};
    LoopWatchers<Impl> watchers{loop, *this};  // the three timers above
    ConnectionPool pool{{loop, endpoint, *tls,
                         [this](H2Link& link) {
                             if (jwt) link.token = std::make_shared<ConnectionToken>(jwt);
                         },
                         *this, log, name, counters.connects, counters.connect_failures, [this] { schedule_kick(); },
                         [this] { after_event(); }},
                        config.connections, static_cast<double>(config.ping_interval_s)};
    std::uint64_t next_seq = 1;
    bool shutting_down = false;
    bool draining = false;  // drain(): replaced by a reload
    bool rejected = false;
    bool in_after_event = false;

    Impl(struct ev_loop* loop_, ConnectionConfig config_, Callback on_response_)
        : loop(loop_), config(std::move(config_)), on_response(std::move(on_response_)), log(config.log),
          endpoint(parse_endpoint(config.url)),
          tls(config.tls ? config.tls : std::make_shared<const TlsContext>(tls_options(config))),
          jwt(jwt_cache_for(config)),
          name("apns " + endpoint.authority + " " + std::string(to_string(config.environment))) {
        watchers.bind<&Impl::on_timeout_timer>(timeout_timer, "on_timeout_timer");
        watchers.bind<&Impl::on_kick>(kick, "on_kick");
        watchers.bind<&Impl::on_shutdown_timer>(shutdown_timer, "on_shutdown_timer");
    }

    // ---- requests ----

    void send(PushRequest request) {
        if (shutting_down || draining) {
            PushResponse response;
            response.tag = request.tag;
            response.reason = shutting_down ? "Shutdown" : "NotSent";
            completions.push_back(std::move(response));
            schedule_kick();
            return;
        }
        std::uint64_t seq = next_seq++;
        // The deadline counts from send(), queueing and resends included, so every push is
        // answered within request_timeout_ms even while no connection can be made.
        double deadline = ev_time() + config.request_timeout_ms / 1000.0;
        pending.emplace(seq, Pending{std::move(request), deadline});
        waiting.push_back(seq);
        deadlines.emplace_back(deadline, seq);
        if (!ev_is_active(&timeout_timer)) arm_timeout_timer();
        schedule_kick();
    }

    void complete(std::uint64_t seq, int status, std::string reason, std::int64_t timestamp_ms = 0,
                  std::string apns_id = {}) {
        auto it = pending.find(seq);
        if (it == pending.end()) return;
        PushResponse response;
        response.tag = it->second.request.tag;
        response.status = status;
        response.reason = std::move(reason);
        response.timestamp_ms = timestamp_ms;
        response.apns_id = std::move(apns_id);
        pending.erase(it);
        completions.push_back(std::move(response));
    }

    void deliver() {
        // A callback may send() and so add completions: run them in batches until none is left.
        // The batch is a local (its buffer borrowed from `delivering` and handed back), so even a
        // re-entrant deliver() would never walk a vector being refilled.
        while (!completions.empty()) {
            std::vector<PushResponse> batch = std::move(delivering);
            batch.clear();
            batch.swap(completions);
            for (const PushResponse& response : batch) on_response(response);
            batch.clear();
            delivering = std::move(batch);
        }
    }

    // ---- dispatch ----

    // A push APNs never processed goes again: here, or back to the caller while draining.
    void send_again(std::uint64_t seq) {
        if (draining) return complete(seq, 0, "NotSent");
        waiting.push_front(seq);
    }

    void dispatch() {
        if (shutting_down || draining) return;
        while (!waiting.empty()) {
            H2Link* link = pool.pick();
            if (!link) break;
            std::uint64_t seq = waiting.front();
            waiting.pop_front();
            auto it = pending.find(seq);
            if (it == pending.end() || it->second.link) continue;  // answered already (timeout)
            if (!open_stream(*link, it->first, it->second)) waiting.push_front(seq);
        }
    }

    bool open_stream(H2Link& link, std::uint64_t seq, Pending& p) {
        // Reused buffers: nghttp2_submit_request copies every name and value (no NO_COPY flags).
        std::string& path = path_buffer;
        path.assign("/3/device/").append(p.request.token);
        const std::string expiration = std::to_string(p.request.expiration_unix_s);
        std::vector<nghttp2_nv>& headers = header_buffer;
        headers.clear();
        headers.push_back(header(":method", "POST"));
        headers.push_back(header(":scheme", "https"));
        headers.push_back(header(":authority", endpoint.authority));
        headers.push_back(header(":path", path, NGHTTP2_NV_FLAG_NO_INDEX));  // per-device: never indexed
        headers.push_back(header("apns-topic", p.request.topic));
        headers.push_back(header("apns-push-type", "background"));
        headers.push_back(header("apns-priority", "5"));
        headers.push_back(header("apns-expiration", expiration));
        if (link.token) {
            const JwtCache::Token& token = link.token->get();
            if (link.bearer_generation != token.generation) {
                link.bearer = "bearer " + token.jwt;
                link.bearer_generation = token.generation;
            }
            p.jwt_generation = token.generation;
            // Never indexed (Apple's HPACK advice): a token must not linger in a shared table.
            headers.push_back(header("authorization", link.bearer, NGHTTP2_NV_FLAG_NO_INDEX));
        }
        std::int32_t stream_id = link.connection->submit(seq, headers, p.request.payload);
        if (stream_id == 0) return false;
        p.link = &link;
        p.stream_id = stream_id;
        counters.max_open_streams = std::max(counters.max_open_streams, link.connection->open_streams());
        return true;
    }

    // ---- connections ----

    void ensure_connections() {
        if (shutting_down || draining || waiting.empty()) return;  // lazy: connect when there is something to send
        pool.connect_idle_slots();
    }

    // ---- ConnectionOwner ----

    void on_connection_ready(H2Connection& connection) override { pool.ready(connection); }

    void on_goaway(H2Connection& connection) override {
        ++counters.goaways;
        if (H2Link* link = pool.find(connection)) pool.retire(*link, "goaway");
    }

    void on_connection_closed(H2Connection& connection, const std::string&) override {
        pool.closed(connection);
        schedule_kick();
    }

    void on_stream_result(H2Connection& connection, std::uint64_t seq, StreamResult result) override {
        auto it = pending.find(seq);
        if (it == pending.end()) return;
        Pending& p = it->second;
        H2Link* link = p.link ? p.link : pool.find(connection);
        p.link = nullptr;
        p.stream_id = 0;
        if (result.status == 0) {
            if (result.refused || !result.request_sent) {
                // Never processed by APNs: send again elsewhere, invisible to the caller.
                if (shutting_down) return complete(seq, 0, "Shutdown");
                ++counters.resent;
                return send_again(seq);
            }
            if (shutting_down) return complete(seq, 0, "Shutdown");
            if (result.connection_lost) return complete(seq, 0, "ConnectionLost");
            return complete(seq, 0, result.error_code == NGHTTP2_REFUSED_STREAM ? "RefusedStream" : "StreamReset");
        }
        ++counters.responses;
        std::string reason;
        std::int64_t timestamp_ms = 0;
        if (!result.body.empty()) {
            auto body = nlohmann::json::parse(result.body, nullptr, false);
            if (body.is_object()) {
                if (auto r = body.find("reason"); r != body.end() && r->is_string()) reason = r->get<std::string>();
                if (auto t = body.find("timestamp"); t != body.end()) {
                    if (t->is_number()) timestamp_ms = t->get<std::int64_t>();
                    else if (t->is_string()) timestamp_ms = std::atoll(t->get<std::string>().c_str());
                }
            }
        }
        if (link && result.status < 500) pool.succeeded(*link);
        if (result.status == 200) {
            rejected = false;
        } else if (result.status == 403) {
            if (reason == "ExpiredProviderToken" && link && link->token) {
                // This connection takes no new token within 20 minutes of its last (429
                // TooManyProviderTokenUpdates), so the new token goes on a new connection.
                jwt->expired(p.jwt_generation);
                pool.retire(*link, "ExpiredProviderToken");
                if (!p.retried_expired_token) {
                    p.retried_expired_token = true;
                    log.info(name + " ExpiredProviderToken apns-id=" + log_value(result.apns_id) + ": new token, resending");
                    return send_again(seq);
                }
            }
            if (!rejected) {
                log.error(name + " credentials rejected: 403 reason=" + log_value(reason) + " apns-id=" + log_value(result.apns_id));
                rejected = true;
            }
        } else if (result.status == 429 && reason == "TooManyProviderTokenUpdates") {
            // This connection keeps refusing our current token: only a new one takes it.
            log.warn(name + " 429 TooManyProviderTokenUpdates apns-id=" + log_value(result.apns_id) + ": reconnecting");
            if (link) pool.retire(*link, "429 TooManyProviderTokenUpdates");
        } else if (result.status == 503) {
            log.warn(name + " 503 reason=" + log_value(reason) + " apns-id=" + log_value(result.apns_id) + ": reconnecting");
            if (link) pool.retire(*link, "503 " + reason);
        } else {
            log.debug(name + " " + std::to_string(result.status) + " reason=" + log_value(reason) + " token=" +
                      log_value(token_prefix(p.request.token)) + " apns-id=" + log_value(result.apns_id));
        }
        complete(seq, result.status, std::move(reason), timestamp_ms, std::move(result.apns_id));
    }

    void after_event() override {
        if (in_after_event) return;
        in_after_event = true;
        ensure_connections();
        dispatch();
        for (int round = 0; round < 4 && !completions.empty(); ++round) {
            deliver();  // callbacks may send() again: dispatch those in the same write
            ensure_connections();
            dispatch();
        }
        // A flush can close a connection, which moves its link out of the pool: iterate a copy.
        // Closed connections stay alive in the pool's graveyard until the next kick.
        for (H2Connection* connection : pool.open_connections()) connection->flush();
        in_after_event = false;
        if (!completions.empty() || pool.has_dead()) schedule_kick();
        maybe_finish_shutdown();
    }

    // ---- timers ----

    void schedule_kick() {
        if (!ev_is_active(&kick)) {
            ev_timer_set(&kick, 0, 0);
            ev_timer_start(loop, &kick);
        }
    }

    // What a guarded C callback (sender/c_callback.hpp) reports when an exception escaped it.
    auto callback_failed(const char* callback) noexcept {
        return [this, callback](const std::string& what) {
            log.error(name + " callback " + callback + " failed: " + what + "; stopping the event loop");
        };
    }

    void on_kick(ev_timer&) {
        pool.bury();  // no connection callback is on the stack here
        after_event();
    }

    void arm_timeout_timer() {
        ev_timer_stop(loop, &timeout_timer);
        if (deadlines.empty()) return;
        double after = std::max(0.0, deadlines.front().first - ev_time()) + 0.001;
        ev_timer_set(&timeout_timer, after, 0);
        ev_timer_start(loop, &timeout_timer);
    }

    void on_timeout_timer(ev_timer&) {
        expire_requests();
        arm_timeout_timer();
        after_event();
    }

    void expire_requests() {
        double now = ev_time();
        while (!deadlines.empty() && deadlines.front().first <= now) {
            std::uint64_t seq = deadlines.front().second;
            deadlines.pop_front();
            auto it = pending.find(seq);
            if (it == pending.end()) continue;
            H2Link* link = it->second.link;
            std::int32_t stream_id = it->second.stream_id;
            ++counters.timeouts;
            log.debug(name + " timeout token=" + log_value(token_prefix(it->second.request.token)) +
                      (link ? " stream=" + std::to_string(stream_id) : std::string(" (queued)")));
            complete(seq, 0, "Timeout");
            // RST_STREAM(CANCEL) frees the stream slot; anything the server still sends is ignored.
            if (link) link->connection->cancel(stream_id);
        }
    }

    // ---- drain (a reload replaced this client) ----

    void drain() {
        if (shutting_down || draining) return;
        draining = true;
        log.info(name + " draining for a reload: " + std::to_string(waiting.size()) + " queued go back, " +
                 std::to_string(pending.size() - std::min(pending.size(), waiting.size())) + " on the wire");
        std::deque<std::uint64_t> unsent;
        unsent.swap(waiting);
        for (std::uint64_t seq : unsent) {
            auto it = pending.find(seq);
            if (it != pending.end() && !it->second.link) complete(seq, 0, "NotSent");
        }
        pool.stop("reload");
        schedule_kick();
    }

    bool drained() const noexcept { return pending.empty() && completions.empty() && pool.empty(); }

    // ---- shutdown ----

    void shutdown(std::uint32_t deadline_ms) {
        if (shutting_down) return;
        shutting_down = true;
        log.info(name + " shutting down: " + std::to_string(pending.size()) + " pushes in flight");
        for (std::uint64_t seq : waiting) {
            auto it = pending.find(seq);
            if (it != pending.end() && !it->second.link) complete(seq, 0, "Shutdown");
        }
        waiting.clear();
        pool.stop("shutdown");
        ev_timer_set(&shutdown_timer, deadline_ms / 1000.0, 0);
        ev_timer_start(loop, &shutdown_timer);
        schedule_kick();
    }

    void on_shutdown_timer(ev_timer&) {
        pool.close_all("shutdown deadline passed");
        for (auto& [seq, p] : pending) {  // whatever no connection reported
            PushResponse response;
            response.tag = p.request.tag;
            response.reason = "Shutdown";
            completions.push_back(std::move(response));
        }
        pending.clear();
        after_event();
    }

    void maybe_finish_shutdown() {
        if (!shutting_down || !pending.empty() || !completions.empty() || !pool.empty()) return;
        // Nothing of ours stays active, so the caller's ev_run can end.
        ev_timer_stop(loop, &shutdown_timer);
        ev_timer_stop(loop, &timeout_timer);
        deadlines.clear();
        if (pool.has_dead()) schedule_kick();
    }
};

ApnsClient::ApnsClient(struct ev_loop* loop, ConnectionConfig config, Callback on_response)
    : impl_(std::make_unique<Impl>(loop, std::move(config), std::move(on_response))) {}

ApnsClient::~ApnsClient() = default;

void ApnsClient::send(PushRequest request) { impl_->send(std::move(request)); }

std::size_t ApnsClient::in_flight() const noexcept { return impl_->pending.size(); }

void ApnsClient::shutdown(std::uint32_t deadline_ms) { impl_->shutdown(deadline_ms); }

void ApnsClient::drain() { impl_->drain(); }

bool ApnsClient::drained() const noexcept { return impl_->drained(); }

bool ApnsClient::credentials_rejected() const noexcept { return impl_->rejected; }

ApnsClientStats ApnsClient::stats() const noexcept { return impl_->counters; }

}  // namespace pushsync::sender
