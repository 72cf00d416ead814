// SPDX-License-Identifier: BSD-2-Clause
#include "faults.hpp"

#include <algorithm>
#include <stdexcept>

namespace apns_sim {

const char* to_string(FaultKind k) noexcept {
    switch (k) {
        case FaultKind::status: return "status";
        case FaultKind::shutdown: return "shutdown";
        case FaultKind::goaway: return "goaway";
        case FaultKind::refused_stream: return "refused_stream";
        case FaultKind::delay: return "delay";
        case FaultKind::silence: return "silence";
    }
    return "?";
}

nlohmann::json FaultRule::to_json() const {
    return {{"id", id},         {"kind", to_string(kind)}, {"count", remaining},       {"rate", rate},
            {"token", token},   {"status", status},        {"reason", reason},         {"delay_ms", delay_ms},
            {"last_stream_id", last_stream_id},            {"error_code", error_code}, {"debug", debug},
            {"hits", hits}};
}

namespace {

template <typename T>
T field(const nlohmann::json& body, const char* name, T fallback) {
    if (!body.contains(name)) return fallback;
    try {
        return body[name].get<T>();
    } catch (const nlohmann::json::exception&) {
        throw std::invalid_argument(std::string("bad type for field '") + name + "'");
    }
}

}  // namespace

std::uint64_t Faults::add(const nlohmann::json& body) {
    if (!body.is_object()) throw std::invalid_argument("body must be a JSON object");
    FaultRule r;
    auto kind = field<std::string>(body, "kind", "status");
    if (kind == "status") r.kind = FaultKind::status;
    else if (kind == "shutdown") r.kind = FaultKind::shutdown;
    else if (kind == "goaway") r.kind = FaultKind::goaway;
    else if (kind == "refused_stream") r.kind = FaultKind::refused_stream;
    else if (kind == "delay") r.kind = FaultKind::delay;
    else if (kind == "silence") r.kind = FaultKind::silence;
    else throw std::invalid_argument("kind must be status, shutdown, goaway, refused_stream, delay or silence");
    r.remaining = field<std::int64_t>(body, "count", 1);
    if (r.remaining == 0 || r.remaining < -1) throw std::invalid_argument("count must be positive or -1");
    r.rate = field<double>(body, "rate", 1.0);
    if (!(r.rate > 0.0 && r.rate <= 1.0)) throw std::invalid_argument("rate must be in (0, 1]");
    r.token = field<std::string>(body, "token", "");
    std::transform(r.token.begin(), r.token.end(), r.token.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (r.kind == FaultKind::shutdown) {
        r.status = 503;
        r.reason = "Shutdown";
    } else if (r.kind == FaultKind::goaway) {
        r.status = 0;
        r.reason = "";
    }
    r.status = field<int>(body, "status", r.status);
    r.reason = field<std::string>(body, "reason", r.reason);
    if (r.kind == FaultKind::status && (r.status < 200 || r.status > 599)) throw std::invalid_argument("status must be 200-599");
    r.delay_ms = field<std::uint32_t>(body, "delay_ms", 0);
    r.last_stream_id = field<std::int32_t>(body, "last_stream_id", -1);
    r.error_code = field<std::uint32_t>(body, "error_code", 0);
    r.debug = field<std::string>(body, "debug", "");
    r.id = next_id_++;
    rules_.push_back(r);
    return r.id;
}

std::optional<FaultRule> Faults::take(const std::string& token) {
    for (auto it = rules_.begin(); it != rules_.end(); ++it) {
        if (!it->token.empty() && it->token != token) continue;
        if (it->rate < 1.0 && std::uniform_real_distribution<double>(0.0, 1.0)(rng_) >= it->rate) continue;
        ++it->hits;
        FaultRule taken = *it;
        if (it->remaining > 0 && --it->remaining == 0) rules_.erase(it);
        return taken;
    }
    return std::nullopt;
}

nlohmann::json Faults::to_json() const {
    auto out = nlohmann::json::array();
    for (const auto& r : rules_) out.push_back(r.to_json());
    return out;
}

}  // namespace apns_sim
