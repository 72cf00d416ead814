// SPDX-License-Identifier: BSD-2-Clause
#include "send/token_marks.hpp"

#include <stdexcept>

namespace fcm_sim {

namespace {

const char* to_string(TokenState s) noexcept {
    switch (s) {
        case TokenState::valid: return "valid";
        case TokenState::unregistered: return "unregistered";
        case TokenState::invalid: return "invalid";
        case TokenState::sender_id_mismatch: return "sender_id_mismatch";
    }
    return "?";
}

}  // namespace

void TokenMarks::mark(const std::string& token, const nlohmann::json& body, std::int64_t now_ms) {
    if (!body.is_object()) throw std::invalid_argument("a mark is a JSON object");
    const auto state = body.value("state", std::string());
    Mark m;
    if (state == "valid") m.state = TokenState::valid;
    else if (state == "unregistered") m.state = TokenState::unregistered;
    else if (state == "invalid") m.state = TokenState::invalid;
    else if (state == "sender_id_mismatch") m.state = TokenState::sender_id_mismatch;
    else throw std::invalid_argument("state must be valid, unregistered, invalid or sender_id_mismatch");
    m.from_ms = now_ms;
    if (body.contains("timestamp_ms")) {
        if (!body["timestamp_ms"].is_number_integer()) throw std::invalid_argument("timestamp_ms must be an integer");
        m.from_ms = body["timestamp_ms"].get<std::int64_t>();
    }
    marks_[token] = m;
}

std::optional<FcmError> TokenMarks::refusal(const std::string& token, std::int64_t now_ms) const {
    auto it = marks_.find(token);
    if (it == marks_.end()) return std::nullopt;
    switch (it->second.state) {
        case TokenState::valid: return std::nullopt;
        case TokenState::invalid: return invalid_registration_token();
        case TokenState::sender_id_mismatch: return sender_id_mismatch();
        case TokenState::unregistered:
            if (now_ms >= it->second.from_ms) return unregistered();
            return std::nullopt;
    }
    return std::nullopt;
}

nlohmann::json TokenMarks::to_json() const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [token, m] : marks_) {
        nlohmann::json j = {{"state", to_string(m.state)}};
        if (m.state == TokenState::unregistered) j["timestamp_ms"] = m.from_ms;
        out[token] = j;
    }
    return out;
}

}  // namespace fcm_sim
