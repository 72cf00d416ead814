// SPDX-License-Identifier: BSD-2-Clause
#include "faults.hpp"

#include <stdexcept>

namespace fcm_sim {

const char* to_string(FaultKind k) noexcept {
    switch (k) {
        case FaultKind::quota: return "quota";
        case FaultKind::unavailable: return "unavailable";
        case FaultKind::internal: return "internal";
        case FaultKind::token_down: return "token_down";
        case FaultKind::goaway: return "goaway";
        case FaultKind::delay: return "delay";
        case FaultKind::silence: return "silence";
    }
    return "?";
}

nlohmann::json FaultRule::to_json() const {
    return {{"id", id},
            {"kind", to_string(kind)},
            {"on", on == Endpoint::send ? "send" : "token"},
            {"count", remaining},
            {"rate", rate},
            {"token", token},
            {"retry_after_s", retry_after_s},
            {"delay_ms", delay_ms},
            {"last_stream_id", last_stream_id},
            {"error_code", error_code},
            {"debug", debug},
            {"hits", hits}};
}

namespace {

template <typename T>
T get(const nlohmann::json& body, const char* name, T fallback) {
    if (!body.contains(name)) return fallback;
    try {
        return body[name].get<T>();
    } catch (const nlohmann::json::exception&) {
        throw std::invalid_argument(std::string("bad type for field '") + name + "'");
    }
}

FaultKind kind_named(const std::string& kind) {
    for (auto k : {FaultKind::quota, FaultKind::unavailable, FaultKind::internal, FaultKind::token_down,
                   FaultKind::goaway, FaultKind::delay, FaultKind::silence}) {
        if (kind == to_string(k)) return k;
    }
    throw std::invalid_argument("kind must be quota, unavailable, internal, token_down, goaway, delay or silence");
}

}  // namespace

std::uint64_t Faults::add(const nlohmann::json& body) {
    if (!body.is_object()) throw std::invalid_argument("body must be a JSON object");
    FaultRule r;
    r.kind = kind_named(get<std::string>(body, "kind", ""));
    const auto on = get<std::string>(body, "on", r.kind == FaultKind::token_down ? "token" : "send");
    if (on != "send" && on != "token") throw std::invalid_argument("on must be send or token");
    r.on = on == "send" ? Endpoint::send : Endpoint::token;
    const bool either = r.kind == FaultKind::goaway || r.kind == FaultKind::delay || r.kind == FaultKind::silence;
    if (!either && (r.on == Endpoint::token) != (r.kind == FaultKind::token_down)) {
        throw std::invalid_argument(std::string(to_string(r.kind)) + " applies to " +
                                    (r.kind == FaultKind::token_down ? "/token only" : "sends only"));
    }
    r.remaining = get<std::int64_t>(body, "count", 1);
    if (r.remaining == 0 || r.remaining < -1) throw std::invalid_argument("count must be positive or -1");
    r.rate = get<double>(body, "rate", 1.0);
    if (!(r.rate > 0.0 && r.rate <= 1.0)) throw std::invalid_argument("rate must be in (0, 1]");
    r.token = get<std::string>(body, "token", "");
    if (!r.token.empty() && r.on == Endpoint::token) throw std::invalid_argument("token applies to sends only");
    const int default_retry = r.kind == FaultKind::quota ? 60 : r.kind == FaultKind::unavailable ? 30 : 0;
    r.retry_after_s = get<int>(body, "retry_after_s", default_retry);
    if (r.retry_after_s < 0) throw std::invalid_argument("retry_after_s must not be negative");
    r.delay_ms = get<std::uint32_t>(body, "delay_ms", 0);
    r.last_stream_id = get<std::int32_t>(body, "last_stream_id", -1);
    r.error_code = get<std::uint32_t>(body, "error_code", 0);
    r.debug = get<std::string>(body, "debug", "");
    r.id = next_id_++;
    rules_.push_back(r);
    return r.id;
}

std::optional<FaultRule> Faults::take(Endpoint endpoint, const std::string& token) {
    for (auto it = rules_.begin(); it != rules_.end(); ++it) {
        if (it->on != endpoint || (!it->token.empty() && it->token != token)) continue;
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

}  // namespace fcm_sim
