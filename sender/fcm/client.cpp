// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fcm/client.hpp"

#include <ev.h>

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "sender/clock.hpp"
#include "sender/fcm/auth/access_token_cache.hpp"
#include "sender/fcm/auth/assertion.hpp"
#include "sender/fcm/error_table.hpp"
#include "sender/fcm/message.hpp"
#include "sender/fcm/auth/service_account.hpp"
#include "sender/fcm/auth/token_answer.hpp"
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
    return options;
}

std::string token_prefix(const std::string& token) { return token.substr(0, 8); }

// "https://host[:port]/path": the endpoint and the path (parse_endpoint takes no path).
struct TokenUri {
    std::string uri;
    Endpoint endpoint;
    std::string path;
};

TokenUri parse_token_uri(const std::string& uri) {
    constexpr std::string_view scheme = "https://";
    if (uri.compare(0, scheme.size(), scheme) != 0) {
        throw std::runtime_error("token_uri " + log_value(uri) + ": not an https:// URL");
    }
    const std::size_t slash = uri.find('/', scheme.size());
    TokenUri out;
    out.uri = uri;
    out.endpoint = parse_endpoint(slash == std::string::npos ? uri : uri.substr(0, slash));
    out.path = slash == std::string::npos ? "/" : uri.substr(slash);
    return out;
}

Verdict to_sender_verdict(fcm::Verdict verdict) noexcept {
    switch (verdict) {
        case fcm::Verdict::delivered: return Verdict::delivered;
        case fcm::Verdict::unregistered: return Verdict::unregistered;
        case fcm::Verdict::token_rejected: return Verdict::token_rejected;
        case fcm::Verdict::refresh_token: return Verdict::retry;  // decided by the cache, not here
        case fcm::Verdict::retry: return Verdict::retry;
        case fcm::Verdict::failed: return Verdict::failed;
        case fcm::Verdict::credentials: return Verdict::credentials;
    }
    return Verdict::failed;
}

// A push FCM keeps answering 401 while fresh tokens come is answered instead of looping.
constexpr int max_unauthorized_resends = 2;
// The tag of the token request's stream; pushes count from 1.
constexpr std::uint64_t token_tag = 0;

}  // namespace

struct FcmClient::Impl final : ConnectionOwner {
    struct Pending {
        PushRequest request;
        double deadline = 0;
        H2Link* link = nullptr;  // set while on the wire
        std::int32_t stream_id = 0;
        std::uint64_t token_generation = 0;
        std::int64_t sent_unix_ms = 0;
        int unauthorized_resends = 0;
    };

    struct ev_loop* loop;
    ConnectionConfig config;
    Callback on_response;
    TransportLogger log;
    std::shared_ptr<const fcm::ServiceAccount> account;  // the credential loader's, or read here
    Endpoint endpoint;
    TokenUri token_uri;
    std::string path;  // send_path(project_id)
    std::shared_ptr<const TlsContext> tls;
    std::string name;
    std::string token_name;
    SystemClock clock;
    fcm::AccessTokenCache cache;

    std::unordered_map<std::uint64_t, Pending> pending;
    std::deque<std::uint64_t> waiting;                        // not yet on the wire; may hold stale ids
    std::deque<std::pair<double, std::uint64_t>> deadlines;  // in send() order, hence sorted
    std::vector<PushResponse> completions;                    // answered, callback not yet run
    std::vector<PushResponse> delivering;                     // deliver()'s batch; keeps its capacity
    std::vector<nghttp2_nv> header_buffer;                    // open_stream()'s, reused per push
    FcmClientStats counters;
    std::uint64_t token_connects = 0;  // the token endpoint's connections
    std::uint64_t token_connect_failures = 0;
    ev_timer timeout_timer{};
    ev_timer kick{};  // a zero-delay timer: deferred work runs once per loop iteration, batched
    ev_timer shutdown_timer{};
    ev_timer poll_timer{};   // the cache's next refresh or retry
    ev_timer fetch_timer{};  // the token request's deadline
    LoopWatchers<Impl> watchers{loop, *this};  // the timers above
    ConnectionPool pool;
    ConnectionPool token_pool;
    std::uint64_t next_seq = 1;
    bool shutting_down = false;
    bool draining = false;
    bool rejected = false;  // FCM refused the account (the token endpoint's refusal is the cache's)
    bool in_after_event = false;
    bool waiting_for_token = false;  // a cache waiter is registered
    bool token_flow_started = false;  // the first push asked for a token: the poll timer runs
    // The cache asked for a token: fetch_link is set once its request is on the wire.
    bool fetch_wanted = false;
    H2Link* fetch_link = nullptr;
    std::int32_t fetch_stream = 0;
    std::int64_t poll_due_ms = -2;  // what poll_timer is armed for; -2: not armed

    // The log lines' first word tells FCM's connections from the token endpoint's, which a
    // simulator serves on the same port.
    static ConnectOptions connect_options(const char* service) {
        ConnectOptions options;
        options.service = service;
        return options;
    }

    static fcm::AccessTokenCache::Hooks cache_hooks(Impl* self) {
        fcm::AccessTokenCache::Hooks hooks;
        hooks.fetch = [self] { self->want_fetch(); };
        hooks.alert = [self](const std::string& problem) { self->log.error(self->name + " " + problem); };
        return hooks;
    }

    Impl(struct ev_loop* loop_, ConnectionConfig config_, Callback on_response_)
        : loop(loop_), config(std::move(config_)), on_response(std::move(on_response_)), log(config.log),
          account(config.service_account
                      ? config.service_account
                      : std::make_shared<const fcm::ServiceAccount>(fcm::load_service_account(config.auth.file))),
          endpoint(parse_endpoint(config.url)),
          token_uri(parse_token_uri(config.token_uri.empty() ? account->token_uri : config.token_uri)),
          path(fcm::send_path(account->project_id)),
          tls(config.tls ? config.tls : std::make_shared<const TlsContext>(tls_options(config))),
          name("fcm " + endpoint.authority + " project=" + account->project_id),
          token_name("fcm token " + token_uri.endpoint.authority),
          cache(clock, cache_hooks(this)),
          pool({loop, endpoint, *tls, {}, *this, log, name, counters.connects, counters.connect_failures,
                [this] { schedule_kick(); }, [this] { after_event(); }},
               config.connections, static_cast<double>(config.ping_interval_s), connect_options("fcm")),
          token_pool({loop, token_uri.endpoint, *tls, {}, *this, log, token_name, token_connects,
                      token_connect_failures, [this] { schedule_kick(); }, [this] { after_event(); }},
                     1, static_cast<double>(config.ping_interval_s), connect_options("fcm-token")) {
        watchers.bind<&Impl::on_timeout_timer>(timeout_timer, "on_timeout_timer");
        watchers.bind<&Impl::on_kick>(kick, "on_kick");
        watchers.bind<&Impl::on_shutdown_timer>(shutdown_timer, "on_shutdown_timer");
        watchers.bind<&Impl::on_poll_timer>(poll_timer, "on_poll_timer");
        watchers.bind<&Impl::on_fetch_timer>(fetch_timer, "on_fetch_timer");
    }

    // ---- requests ----

    void send(PushRequest request) {
        if (shutting_down || draining) {
            PushResponse response;
            response.tag = request.tag;
            response.reason = shutting_down ? "Shutdown" : "NotSent";
            response.verdict = Verdict::retry;
            completions.push_back(std::move(response));
            schedule_kick();
            return;
        }
        token_flow_started = true;
        std::uint64_t seq = next_seq++;
        double deadline = ev_time() + config.request_timeout_ms / 1000.0;
        pending.emplace(seq, Pending{std::move(request), deadline});
        waiting.push_back(seq);
        deadlines.emplace_back(deadline, seq);
        if (!ev_is_active(&timeout_timer)) arm_timeout_timer();
        schedule_kick();
    }

    void complete(std::uint64_t seq, int status, std::string reason, Verdict verdict, std::int64_t timestamp_ms = 0,
                  std::int64_t retry_after_ms = 0) {
        auto it = pending.find(seq);
        if (it == pending.end()) return;
        PushResponse response;
        response.tag = it->second.request.tag;
        response.status = status;
        response.reason = std::move(reason);
        response.timestamp_ms = timestamp_ms;
        response.verdict = verdict;
        response.retry_after_ms = retry_after_ms;
        pending.erase(it);
        completions.push_back(std::move(response));
    }

    void deliver() {
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

    void send_again(std::uint64_t seq) {
        if (draining) return complete(seq, 0, "NotSent", Verdict::retry);
        waiting.push_front(seq);
    }

    void dispatch() {
        if (shutting_down || draining || waiting.empty()) return;
        const fcm::AccessTokenCache::Token* token = cache.current();
        if (!token) {
            // Pushes wait for the coming token rather than fail; their deadlines still run.
            if (!waiting_for_token) {
                waiting_for_token = true;
                cache.wait([this](const fcm::AccessTokenCache::Token&) {
                    waiting_for_token = false;
                    schedule_kick();
                });
            }
            return;
        }
        while (!waiting.empty()) {
            H2Link* link = pool.pick(std::max<std::uint32_t>(1, config.max_streams));
            if (!link) break;
            std::uint64_t seq = waiting.front();
            waiting.pop_front();
            auto it = pending.find(seq);
            if (it == pending.end() || it->second.link) continue;  // answered already (timeout)
            if (!open_stream(*link, it->first, it->second, *token)) waiting.push_front(seq);
        }
    }

    bool open_stream(H2Link& link, std::uint64_t seq, Pending& p, const fcm::AccessTokenCache::Token& token) {
        if (link.bearer_generation != token.generation) {
            link.bearer = "Bearer " + token.value;
            link.bearer_generation = token.generation;
        }
        std::vector<nghttp2_nv>& headers = header_buffer;
        headers.clear();
        headers.push_back(header(":method", "POST"));
        headers.push_back(header(":scheme", "https"));
        headers.push_back(header(":authority", endpoint.authority));
        headers.push_back(header(":path", path));
        headers.push_back(header("content-type", "application/json"));
        // Never indexed: a token must not linger in a shared HPACK table.
        headers.push_back(header("authorization", link.bearer, NGHTTP2_NV_FLAG_NO_INDEX));
        std::string body = fcm::message_body(p.request.token, p.request.tail, config.android_priority,
                                             static_cast<std::int64_t>(config.expiration_s));
        std::int32_t stream_id = link.connection->submit(seq, headers, std::move(body));
        if (stream_id == 0) return false;
        p.link = &link;
        p.stream_id = stream_id;
        p.token_generation = token.generation;
        p.sent_unix_ms = clock.unix_ms();
        counters.max_open_streams = std::max(counters.max_open_streams, link.connection->open_streams());
        return true;
    }

    void ensure_connections() {
        if (shutting_down || draining || waiting.empty()) return;
        pool.connect_idle_slots();
    }

    // ---- the access token ----

    // The cache's fetch hook: the request goes out from after_event(), never inside the hook.
    void want_fetch() {
        fetch_wanted = true;
        fetch_link = nullptr;
        fetch_stream = 0;
        ++counters.token_fetches;
        // The same bound as a push's: a token endpoint that never answers is a failed fetch.
        ev_timer_stop(loop, &fetch_timer);
        ev_timer_set(&fetch_timer, config.request_timeout_ms / 1000.0, 0);
        ev_timer_start(loop, &fetch_timer);
        schedule_kick();
    }

    void pump_token() {
        if (!fetch_wanted || fetch_link || shutting_down || draining) return;
        token_pool.connect_idle_slots();
        H2Link* link = token_pool.pick(1);
        if (!link) return;
        std::string body;
        try {
            const std::int64_t now_s = clock.unix_ms() / 1000;
            body = fcm::token_request_body(fcm::make_assertion(*account, now_s, token_uri.uri));
        } catch (const std::exception& e) {
            return finish_fetch(fcm::parse_token_answer(0, ""), std::string("cannot sign the assertion: ") + e.what());
        }
        std::vector<nghttp2_nv> headers{
            header(":method", "POST"),
            header(":scheme", "https"),
            header(":authority", token_uri.endpoint.authority),
            header(":path", token_uri.path),
            header("content-type", "application/x-www-form-urlencoded"),
        };
        std::int32_t stream_id = link->connection->submit(token_tag, headers, std::move(body));
        if (stream_id == 0) return;  // the connection drains: the next one takes it
        fetch_link = link;
        fetch_stream = stream_id;
    }

    void finish_fetch(const fcm::TokenAnswer& answer, const std::string& why = {}) {
        if (!fetch_wanted) return;
        fetch_wanted = false;
        fetch_link = nullptr;
        fetch_stream = 0;
        ev_timer_stop(loop, &fetch_timer);
        if (config.on_token_fetch) config.on_token_fetch(answer.kind == fcm::TokenAnswer::Kind::token);
        if (answer.kind == fcm::TokenAnswer::Kind::token) {
            log.info(token_name + " access token fetched, expires in " + std::to_string(answer.expires_in_s) + " s");
        } else {
            ++counters.token_fetch_failures;
            log.warn(token_name + " access token fetch failed: " +
                     (why.empty() ? "HTTP " + std::to_string(answer.status) + " " + answer.reason : why) +
                     " (failures in a row: " + std::to_string(cache.failures() + 1) + ")");
        }
        cache.on_answer(answer);
        schedule_kick();
    }

    void on_fetch_timer(ev_timer&) {
        if (fetch_link && fetch_stream) fetch_link->connection->cancel(fetch_stream);
        finish_fetch(fcm::parse_token_answer(0, ""), "no answer within " + std::to_string(config.request_timeout_ms) + " ms");
        after_event();
    }

    void arm_poll_timer() {
        if (!token_flow_started || shutting_down || draining) {
            ev_timer_stop(loop, &poll_timer);
            poll_due_ms = -2;
            return;
        }
        const std::int64_t due = cache.next_due_ms();
        if (due == poll_due_ms && (due < 0 || ev_is_active(&poll_timer))) return;
        ev_timer_stop(loop, &poll_timer);
        poll_due_ms = due;
        if (due < 0) return;
        const std::int64_t after = std::max<std::int64_t>(0, due - clock.now_ms());
        ev_timer_set(&poll_timer, after / 1000.0 + 0.001, 0);
        ev_timer_start(loop, &poll_timer);
    }

    void on_poll_timer(ev_timer&) {
        poll_due_ms = -2;
        cache.poll();
        after_event();
    }

    // ---- ConnectionOwner ----

    void on_connection_ready(H2Connection& connection) override {
        pool.ready(connection);
        token_pool.ready(connection);
    }

    void on_goaway(H2Connection& connection) override {
        if (H2Link* link = pool.find(connection)) {
            ++counters.goaways;
            pool.retire(*link, "goaway");
        } else if (H2Link* token_link = token_pool.find(connection)) {
            token_pool.retire(*token_link, "goaway");
        }
    }

    void on_connection_closed(H2Connection& connection, const std::string& why) override {
        const bool was_token = token_pool.find(connection) != nullptr;
        pool.closed(connection);
        token_pool.closed(connection);
        // A fetch waiting for the only token connection fails now, not at its deadline: the
        // cache backs off and asks again.
        if (was_token && fetch_wanted && !fetch_link && token_pool.empty()) {
            finish_fetch(fcm::parse_token_answer(0, ""), "connection closed: " + why);
        }
        schedule_kick();
    }

    void on_token_result(H2Connection& connection, StreamResult result) {
        if (!fetch_link || fetch_link->connection.get() != &connection) return;  // a cancelled request's
        if (H2Link* link = token_pool.find(connection); link && result.status > 0 && result.status < 500) {
            token_pool.succeeded(*link);
        }
        if (result.status == 0) {
            if (result.refused || !result.request_sent) {
                // Never processed: the next connection takes it, within the same deadline.
                fetch_link = nullptr;
                fetch_stream = 0;
                return;
            }
            return finish_fetch(fcm::parse_token_answer(0, ""),
                                result.connection_lost ? "connection lost" : "stream reset");
        }
        finish_fetch(fcm::parse_token_answer(result.status, result.body));
    }

    void on_stream_result(H2Connection& connection, std::uint64_t seq, StreamResult result) override {
        if (seq == token_tag) return on_token_result(connection, std::move(result));
        auto it = pending.find(seq);
        if (it == pending.end()) return;
        Pending& p = it->second;
        H2Link* link = p.link ? p.link : pool.find(connection);
        p.link = nullptr;
        p.stream_id = 0;
        if (result.status == 0) {
            if (result.refused || !result.request_sent) {
                if (shutting_down) return complete(seq, 0, "Shutdown", Verdict::retry);
                ++counters.resent;
                return send_again(seq);
            }
            if (shutting_down) return complete(seq, 0, "Shutdown", Verdict::retry);
            if (result.connection_lost) return complete(seq, 0, "ConnectionLost", Verdict::retry);
            return complete(seq, 0, result.error_code == NGHTTP2_REFUSED_STREAM ? "RefusedStream" : "StreamReset",
                            Verdict::retry);
        }
        ++counters.responses;
        if (link && result.status < 500) pool.succeeded(*link);
        fcm::FcmAnswer answer = fcm::classify_fcm(result.status, result.retry_after, result.body, p.sent_unix_ms);
        if (result.status != 401) cache.on_accepted(p.token_generation);
        Verdict verdict = to_sender_verdict(answer.verdict);
        switch (answer.verdict) {
            case fcm::Verdict::refresh_token: {
                ++counters.unauthorized;
                const auto decision = cache.on_unauthorized(p.token_generation);
                if (decision == fcm::AccessTokenCache::Unauthorized::retry &&
                    p.unauthorized_resends < max_unauthorized_resends) {
                    ++p.unauthorized_resends;
                    ++counters.resent;
                    log.info(name + " " + answer.reason + ": new access token, resending token=" +
                             log_value(token_prefix(p.request.token)));
                    return send_again(seq);
                }
                if (decision == fcm::AccessTokenCache::Unauthorized::retry) {
                    // Fresh tokens keep being refused for this push alone: the dispatcher's backoff.
                    log.warn(name + " " + answer.reason + ": still refused after " +
                             std::to_string(p.unauthorized_resends) + " new tokens token=" +
                             log_value(token_prefix(p.request.token)));
                    verdict = Verdict::retry;
                    break;
                }
                verdict = Verdict::credentials;
                if (!rejected) log.error(name + " credentials rejected: " + answer.reason);
                rejected = true;
                break;
            }
            case fcm::Verdict::credentials:
                if (!rejected) log.error(name + " credentials rejected: " + answer.reason);
                rejected = true;
                break;
            case fcm::Verdict::delivered:
                rejected = false;
                break;
            case fcm::Verdict::retry:
                log.warn(name + " " + answer.reason + " retry-after=" + std::to_string(answer.retry_after_ms) +
                         " ms token=" + log_value(token_prefix(p.request.token)));
                break;
            default:
                log.debug(name + " " + answer.reason + " token=" + log_value(token_prefix(p.request.token)));
                break;
        }
        // The error code ("UNREGISTERED"), not the whole line: it is the metrics' reason label and
        // the admin page's, and this client logged the line above.
        std::string reason = answer.error_code.empty() ? std::move(answer.reason) : std::move(answer.error_code);
        complete(seq, result.status, std::move(reason), verdict, answer.timestamp_ms, answer.retry_after_ms);
    }

    void after_event() override {
        if (in_after_event) return;
        in_after_event = true;
        ensure_connections();
        dispatch();
        pump_token();
        for (int round = 0; round < 4 && !completions.empty(); ++round) {
            deliver();  // callbacks may send() again: dispatch those in the same write
            ensure_connections();
            dispatch();
            pump_token();
        }
        for (H2Connection* connection : pool.open_connections()) connection->flush();
        for (H2Connection* connection : token_pool.open_connections()) connection->flush();
        arm_poll_timer();
        in_after_event = false;
        if (!completions.empty() || pool.has_dead() || token_pool.has_dead()) schedule_kick();
        maybe_finish_shutdown();
    }

    // ---- timers ----

    void schedule_kick() {
        if (!ev_is_active(&kick)) {
            ev_timer_set(&kick, 0, 0);
            ev_timer_start(loop, &kick);
        }
    }

    auto callback_failed(const char* callback) noexcept {
        return [this, callback](const std::string& what) {
            log.error(name + " callback " + callback + " failed: " + what + "; stopping the event loop");
        };
    }

    void on_kick(ev_timer&) {
        pool.bury();
        token_pool.bury();
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
                      (link ? " stream=" + std::to_string(stream_id)
                            : std::string(cache.state() == fcm::AccessTokenCache::State::valid ? " (queued)" : " (waiting for an access token)")));
            complete(seq, 0, "Timeout", Verdict::retry);
            if (link) link->connection->cancel(stream_id);
        }
    }

    // ---- drain, shutdown ----

    void stop_token_flow(const std::string& why) {
        cache.take_waiters();
        waiting_for_token = false;
        token_pool.stop(why);
        ev_timer_stop(loop, &poll_timer);
        poll_due_ms = -2;
    }

    void drain() {
        if (shutting_down || draining) return;
        draining = true;
        log.info(name + " draining for a reload: " + std::to_string(waiting.size()) + " queued go back, " +
                 std::to_string(pending.size() - std::min(pending.size(), waiting.size())) + " on the wire");
        std::deque<std::uint64_t> unsent;
        unsent.swap(waiting);
        for (std::uint64_t seq : unsent) {
            auto it = pending.find(seq);
            if (it != pending.end() && !it->second.link) complete(seq, 0, "NotSent", Verdict::retry);
        }
        pool.stop("reload");
        stop_token_flow("reload");
        schedule_kick();
    }

    bool drained() const noexcept {
        return pending.empty() && completions.empty() && pool.empty() && token_pool.empty();
    }

    void shutdown(std::uint32_t deadline_ms) {
        if (shutting_down) return;
        shutting_down = true;
        log.info(name + " shutting down: " + std::to_string(pending.size()) + " pushes in flight");
        for (std::uint64_t seq : waiting) {
            auto it = pending.find(seq);
            if (it != pending.end() && !it->second.link) complete(seq, 0, "Shutdown", Verdict::retry);
        }
        waiting.clear();
        pool.stop("shutdown");
        stop_token_flow("shutdown");
        ev_timer_set(&shutdown_timer, deadline_ms / 1000.0, 0);
        ev_timer_start(loop, &shutdown_timer);
        schedule_kick();
    }

    void on_shutdown_timer(ev_timer&) {
        pool.close_all("shutdown deadline passed");
        token_pool.close_all("shutdown deadline passed");
        for (auto& [seq, p] : pending) {
            PushResponse response;
            response.tag = p.request.tag;
            response.reason = "Shutdown";
            response.verdict = Verdict::retry;
            completions.push_back(std::move(response));
        }
        pending.clear();
        after_event();
    }

    void maybe_finish_shutdown() {
        if (!shutting_down || !pending.empty() || !completions.empty() || !pool.empty() || !token_pool.empty()) return;
        ev_timer_stop(loop, &shutdown_timer);
        ev_timer_stop(loop, &timeout_timer);
        ev_timer_stop(loop, &fetch_timer);
        ev_timer_stop(loop, &poll_timer);
        deadlines.clear();
        if (pool.has_dead() || token_pool.has_dead()) schedule_kick();
    }

};

FcmClient::FcmClient(struct ev_loop* loop, ConnectionConfig config, Callback on_response)
    : impl_(std::make_unique<Impl>(loop, std::move(config), std::move(on_response))) {}

FcmClient::~FcmClient() = default;

void FcmClient::send(PushRequest request) { impl_->send(std::move(request)); }

std::size_t FcmClient::in_flight() const noexcept { return impl_->pending.size(); }

void FcmClient::shutdown(std::uint32_t deadline_ms) { impl_->shutdown(deadline_ms); }

void FcmClient::drain() { impl_->drain(); }

bool FcmClient::drained() const noexcept { return impl_->drained(); }

bool FcmClient::credentials_rejected() const noexcept {
    return impl_->rejected || impl_->cache.credentials_rejected();
}

FcmClientStats FcmClient::stats() const noexcept { return impl_->counters; }

}  // namespace pushsync::sender
