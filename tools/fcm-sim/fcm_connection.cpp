// SPDX-License-Identifier: BSD-2-Clause
#include "fcm_connection.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "auth/assertion.hpp"
#include "send/errors.hpp"
#include "send/message.hpp"
#include "tools/sim-common/h2/server.hpp"

namespace fcm_sim {

namespace {

constexpr std::size_t max_kept_body = 64 * 1024;
constexpr std::size_t max_send_body = 16 * 1024;  // pushsync's message is far below; more is a bug
constexpr const char* json_type = "application/json; charset=UTF-8";

Answer fcm_answer(const FcmError& e) {
    sim::ResponseHeaders headers = {{"content-type", json_type}};
    if (e.retry_after_s > 0) headers.emplace_back("retry-after", std::to_string(e.retry_after_s));
    return {e.code, headers, e.body(), e.error_code.empty() ? e.status : e.error_code, e.message};
}

Answer oauth_answer(const OAuthError& e) {
    return {e.status,
            {{"content-type", json_type}},
            nlohmann::json{{"error", e.error}, {"error_description", e.description}}.dump(),
            e.error,
            e.description};
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

}  // namespace

FcmConnection::FcmConnection(sim::H2Server& server, Simulator& sim, struct ev_loop* loop, SSL_CTX* tls,
                             sim::UniqueFd fd, std::uint64_t id)
    : sim::H2Connection(server, sim.counters, server.config(), loop, tls, std::move(fd), id), sim_(sim) {}

std::unique_ptr<sim::H2Stream> FcmConnection::new_stream(std::int32_t id) { return std::make_unique<Stream>(*this, id); }

void FcmConnection::on_header(sim::H2Stream& stream, std::string_view name, std::string_view value, std::uint8_t) {
    auto& s = static_cast<Stream&>(stream);
    if (name == ":method") s.method = value;
    else if (name == ":path") s.path = value;
    else if (name == "authorization") s.authorization = value;
    else if (name == "content-type") s.content_type = value;
}

void FcmConnection::on_body(sim::H2Stream& stream, const std::uint8_t* data, std::size_t len) {
    auto& s = static_cast<Stream&>(stream);
    s.body_size += len;
    if (s.body.size() < max_kept_body) {
        s.body.append(reinterpret_cast<const char*>(data), std::min(len, max_kept_body - s.body.size()));
    }
}

void FcmConnection::on_request(sim::H2Stream& stream) {
    auto& s = static_cast<Stream&>(stream);
    LogEntry& e = s.entry;
    e.time_ms = sim_.clock.now_ms();
    e.received_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    e.connection = id();
    e.stream = s.id;
    e.method = s.method;
    e.path = s.path;
    const std::string path = s.path.substr(0, s.path.find('?'));
    Answer a;
    Endpoint endpoint = Endpoint::send;
    if (path == "/token") {
        e.endpoint = "token";
        endpoint = Endpoint::token;
        a = token_request(s);
    } else if (auto project = send_path_project(path)) {
        e.endpoint = "send";
        e.project = *project;
        if (s.body.size() <= 8 * 1024) e.body = s.body;
        a = send_request(s, *project);
    } else {
        e.endpoint = "other";
        a = fcm_answer(not_found("fcm-sim: no such endpoint (POST /token, POST /v1/projects/{id}/messages:send)"));
    }
    // Faults take over only requests that pass every check, as at apns-sim.
    if (a.status != 200) {
        answer(s, a);
        return;
    }
    finish(s, endpoint, e.token, std::move(a));
}

Answer FcmConnection::token_request(Stream& s) {
    if (s.method != "POST") return oauth_answer({405, "invalid_request", "fcm-sim: POST only"});
    auto r = check_token_request(s.content_type, s.body, sim_.accounts, sim_.clock.now_s(), sim_.opt.clock_skew_s);
    s.entry.client_email = r.iss;
    s.entry.kid = r.kid;
    if (r.error) return oauth_answer(*r.error);
    s.entry.project = r.account->project_id;
    const std::string token =
        sim_.tokens.issue(r.account->project_id, r.account->client_email, sim_.clock.now_ms(), sim_.opt.token_lifetime_s);
    return {200,
            {{"content-type", json_type}},
            nlohmann::json{{"access_token", token}, {"expires_in", sim_.opt.token_lifetime_s}, {"token_type", "Bearer"}}.dump(),
            "",
            ""};
}

Answer FcmConnection::send_request(Stream& s, const std::string& project) {
    if (s.method != "POST") return fcm_answer(not_found("Method not found."));
    if (s.authorization.empty()) return fcm_answer(unauthenticated("CREDENTIALS_MISSING"));
    const auto space = s.authorization.find(' ');
    if (space == std::string::npos || lowercase(s.authorization.substr(0, space)) != "bearer") {
        return fcm_answer(unauthenticated("CREDENTIALS_MISSING"));
    }
    switch (sim_.tokens.check(s.authorization.substr(space + 1), project, sim_.clock.now_ms())) {
        case BearerState::valid: break;
        case BearerState::unknown: return fcm_answer(unauthenticated("ACCESS_TOKEN_TYPE_UNSUPPORTED"));
        case BearerState::expired: return fcm_answer(unauthenticated("ACCESS_TOKEN_EXPIRED"));
        case BearerState::other_project: return fcm_answer(permission_denied(project));
    }
    if (s.body_size > max_send_body) {
        return fcm_answer(invalid_argument("fcm-sim: the body is larger than 16 KiB", ""));
    }
    auto checked = check_message(s.content_type, s.body);
    LogEntry& e = s.entry;
    e.token = checked.message.token;
    e.tail = checked.message.tail;
    e.priority = checked.message.priority;
    e.ttl = checked.message.ttl;
    e.collapse_key = checked.message.collapse_key;
    if (checked.error) return fcm_answer(*checked.error);
    if (!checked.message.compact) counters_.add("send_bodies_not_compact");
    if (auto refusal = sim_.marks.refusal(checked.message.token, sim_.clock.now_ms())) return fcm_answer(*refusal);
    return {200,
            {{"content-type", json_type}},
            nlohmann::json{{"name", "projects/" + project + "/messages/" + sim_.new_message_id(e.received_us)}}.dump(),
            "",
            ""};
}

void FcmConnection::finish(Stream& s, Endpoint endpoint, const std::string& token, Answer a) {
    auto fault = sim_.faults.take(endpoint, token);
    if (!fault) {
        answer(s, a);
        return;
    }
    s.entry.fault = to_string(fault->kind);
    counters_.add(std::string("faults_") + to_string(fault->kind));
    switch (fault->kind) {
        case FaultKind::quota: answer(s, fcm_answer(quota_exceeded(fault->retry_after_s))); break;
        case FaultKind::unavailable: answer(s, fcm_answer(unavailable(fault->retry_after_s))); break;
        case FaultKind::internal: answer(s, fcm_answer(internal())); break;
        case FaultKind::token_down: {
            Answer down = oauth_answer({503, "temporarily_unavailable", "fcm-sim: the token endpoint is down (fault)"});
            if (fault->retry_after_s > 0) down.headers.emplace_back("retry-after", std::to_string(fault->retry_after_s));
            answer(s, down);
            break;
        }
        case FaultKind::goaway: {
            const std::int32_t last = fault->last_stream_id >= 0 ? fault->last_stream_id : std::max(0, s.id - 2);
            submit_goaway(last, fault->error_code, fault->debug);
            if (s.id <= last) {
                answer(s, a);
            } else {
                s.silenced = true;
                sim_.log.add(s.entry);
            }
            break;
        }
        case FaultKind::delay:
            s.delayed = std::move(a);
            delay_answer(s, fault->delay_ms / 1000.0);
            break;
        case FaultKind::silence:
            s.silenced = true;
            sim_.log.add(s.entry);
            break;
    }
}

void FcmConnection::on_delay_done(sim::H2Stream& stream) {
    auto& s = static_cast<Stream&>(stream);
    answer(s, s.delayed);
}

void FcmConnection::answer(Stream& s, const Answer& a) {
    respond(s, a.status, a.headers, a.body);
    if (a.status == 200 && s.entry.endpoint == "token") counters_.add("tokens_issued");
    counters_.count_response(a.status, a.error);
    s.entry.status = a.status;
    s.entry.error = a.error;
    s.entry.message = a.message;
    sim_.log.add(s.entry);
}

}  // namespace fcm_sim
