// SPDX-License-Identifier: BSD-2-Clause
#include "h2_connection.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "auth/tls_context.hpp"

namespace apns_sim {

namespace {

constexpr std::size_t max_kept_body = 8 * 1024;  // larger bodies are counted (for 413), not stored or logged

std::string reason_json(const std::string& reason) { return nlohmann::json{{"reason", reason}}.dump(); }

}  // namespace

H2Connection::H2Connection(sim::H2Server& server, Simulator& sim, const sim::H2Config& config, struct ev_loop* loop,
                           SSL_CTX* tls, UniqueFd fd, std::uint64_t id)
    : sim::H2Connection(server, sim.counters, config, loop, tls, std::move(fd), id), sim_(sim) {}

std::unique_ptr<sim::H2Stream> H2Connection::new_stream(std::int32_t id) { return std::make_unique<Stream>(*this, id); }

std::uint32_t H2Connection::on_session_start() {
    auth_ = std::make_unique<ConnectionAuth>(inspect_client_certificate(ssl()), sim_.keys, sim_.clock, sim_.opt);
    // APNs' SETTINGS (docs/apns.md §1); a token connection starts with one stream until a valid JWT.
    return auth_->certificate_mode() ? sim_.opt.max_streams : sim_.opt.initial_streams;
}

std::string H2Connection::describe_open() const {
    return " auth=" + (auth_->certificate_mode() ? "certificate topic=" + auth_->certificate_topic() : std::string("token"));
}

void H2Connection::describe(nlohmann::json& j) const {
    j["auth"] = auth_ ? (auth_->certificate_mode() ? "certificate" : "token") : "handshake";
    if (auth_) {
        j["team_id"] = auth_->team();
        j["key_id"] = auth_->key_id();
        j["certificate_topic"] = auth_->certificate_topic();
    }
}

void H2Connection::on_header(sim::H2Stream& s, std::string_view name, std::string_view value, std::uint8_t) {
    static_cast<Stream&>(s).request.add_header(name, value);
}

void H2Connection::on_body(sim::H2Stream& s, const std::uint8_t* data, std::size_t len) {
    Request& r = static_cast<Stream&>(s).request;
    r.body_size += len;
    if (r.body.size() < max_kept_body) {
        r.body.append(reinterpret_cast<const char*>(data), std::min(len, max_kept_body - r.body.size()));
    }
}

void H2Connection::on_request(sim::H2Stream& stream) {
    auto& s = static_cast<Stream&>(stream);
    const Request& r = s.request;
    LogEntry& e = s.entry;
    e.time_ms = sim_.clock.now_ms();
    e.received_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    e.connection = id();
    e.stream = s.id;
    e.method = r.method;
    e.path = r.path;
    if (r.path.rfind("/3/device/", 0) == 0) e.token = r.path.substr(10);
    e.apns_headers = r.apns_headers;
    e.auth = auth_->certificate_mode() ? "certificate" : (r.authorization ? "token" : "none");
    e.payload = r.body;

    if (auto problem = auth_->certificate_problem()) {
        // APNs answers a bad certificate and closes the connection with the same reason.
        respond(s, problem->status, problem->reason, -1);
        submit_goaway(s.id, NGHTTP2_NO_ERROR, reason_json(problem->reason));
        return;
    }
    Checked c;
    auto rejection = check_headers(r, auth_->topic_policy(), sim_.opt, c);
    if (!rejection) rejection = check_registry(c, sim_.registry, sim_.opt);
    if (!rejection) {
        bool was_authorised = auth_->authorised_once();
        rejection = auth_->authorize(r, c);
        if (!rejection && !was_authorised && !auth_->certificate_mode()) set_stream_limit(sim_.opt.max_streams);
    }
    if (!rejection) rejection = check_payload(r, c, sim_.opt);
    if (!rejection && !sim_.token_rate.allow(c.token, sim_.clock.now_s())) rejection = Rejection{429, "TooManyRequests", -1};
    e.key_id = auth_->key_id();
    e.team_id = auth_->team();
    if (rejection) {
        respond(s, rejection->status, rejection->reason, rejection->timestamp_ms);
        if (sim_.opt.drop_limit_after_rejection && rejection->status != 410 && auth_->authorised_once()) {
            set_stream_limit(1);
            limit_dropped_ = true;
        }
        return;
    }
    if (limit_dropped_) {
        set_stream_limit(sim_.opt.max_streams);
        limit_dropped_ = false;
    }

    auto fault = sim_.faults.take(c.token);
    if (!fault) {
        respond_ok(s);
        return;
    }
    e.fault = to_string(fault->kind);
    counters_.add(std::string("faults_") + to_string(fault->kind));
    switch (fault->kind) {
        case FaultKind::status:
            respond(s, fault->status, fault->reason, -1);
            break;
        case FaultKind::shutdown:
            respond(s, fault->status, fault->reason, -1);
            submit_goaway(s.id, fault->error_code, fault->debug.empty() ? reason_json(fault->reason) : fault->debug);
            break;
        case FaultKind::goaway: {
            std::int32_t last = fault->last_stream_id >= 0 ? fault->last_stream_id : std::max(0, s.id - 2);
            std::string debug = !fault->debug.empty() ? fault->debug : fault->reason.empty() ? "" : reason_json(fault->reason);
            submit_goaway(last, fault->error_code, debug);
            if (s.id <= last) {
                respond_ok(s);
            } else {
                s.silenced = true;
                finish_log(s, 0, "");
            }
            break;
        }
        case FaultKind::refused_stream:
            reset_stream(s, NGHTTP2_REFUSED_STREAM);
            counters_.add("streams_refused");
            finish_log(s, 0, "");
            break;
        case FaultKind::delay:
            delay_answer(s, fault->delay_ms / 1000.0);
            break;
        case FaultKind::silence:
            s.silenced = true;
            finish_log(s, 0, "");
            break;
    }
}

void H2Connection::respond(Stream& s, int status, const std::string& reason, std::int64_t timestamp_ms) {
    const std::string apns_id =
        s.request.apns_id && is_lowercase_uuid(*s.request.apns_id) ? *s.request.apns_id : sim_.new_uuid();
    s.entry.apns_id = apns_id;
    sim::ResponseHeaders headers = {{"apns-id", apns_id}};
    if (status == 200) {
        if (sim_.opt.environment == Environment::sandbox) headers.emplace_back("apns-unique-id", sim_.new_uuid());
        sim::H2Connection::respond(s, status, headers, "");
    } else {
        nlohmann::json body = {{"reason", reason}};
        if (status == 410 && reason == "Unregistered") body["timestamp"] = timestamp_ms >= 0 ? timestamp_ms : sim_.clock.now_ms();
        headers.emplace_back("content-type", "application/json");
        sim::H2Connection::respond(s, status, headers, body.dump());
    }
    counters_.count_response(status, reason);
    finish_log(s, status, reason);
}

void H2Connection::finish_log(Stream& s, int status, const std::string& reason) {
    s.entry.status = status;
    s.entry.reason = reason;
    sim_.log.add(s.entry);
}

}  // namespace apns_sim
