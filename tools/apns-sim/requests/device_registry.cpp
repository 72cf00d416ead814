// SPDX-License-Identifier: BSD-2-Clause
#include "requests/device_registry.hpp"

#include <algorithm>
#include <stdexcept>

namespace apns_sim {

const char* to_string(TokenState s) noexcept {
    switch (s) {
        case TokenState::valid: return "valid";
        case TokenState::bad: return "bad";
        case TokenState::unregistered: return "unregistered";
        case TokenState::expired: return "expired";
    }
    return "?";
}

namespace {
std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}
}  // namespace

void DeviceRegistry::mark(const std::string& token, const nlohmann::json& body, std::int64_t now_ms) {
    if (!body.is_object()) throw std::invalid_argument("body must be a JSON object");
    DeviceMark m;
    std::string state = body.value("state", std::string("valid"));
    if (state == "valid") m.state = TokenState::valid;
    else if (state == "bad") m.state = TokenState::bad;
    else if (state == "unregistered") m.state = TokenState::unregistered;
    else if (state == "expired") m.state = TokenState::expired;
    else throw std::invalid_argument("state must be valid, bad, unregistered or expired");
    if (body.contains("timestamp_ms")) {
        if (!body["timestamp_ms"].is_number_integer()) throw std::invalid_argument("timestamp_ms must be an integer");
        m.timestamp_ms = body["timestamp_ms"].get<std::int64_t>();
    } else {
        m.timestamp_ms = now_ms;
    }
    if (body.contains("topic")) {
        if (!body["topic"].is_string()) throw std::invalid_argument("topic must be a string");
        m.topic = body["topic"].get<std::string>();
    }
    if (body.contains("environment")) {
        m.environment = body["environment"].is_string() ? body["environment"].get<std::string>() : "";
        if (m.environment != "production" && m.environment != "sandbox") {
            throw std::invalid_argument("environment must be production or sandbox");
        }
    }
    marks_.insert_or_assign(lower(token), std::move(m));
}

bool DeviceRegistry::forget(const std::string& token) { return marks_.erase(lower(token)) > 0; }

const DeviceMark* DeviceRegistry::find(const std::string& token) const {
    if (marks_.empty()) return nullptr;
    auto it = marks_.find(lower(token));
    return it == marks_.end() ? nullptr : &it->second;
}

nlohmann::json DeviceRegistry::to_json() const {
    auto out = nlohmann::json::object();
    for (const auto& [token, m] : marks_) {
        out[token] = {{"state", to_string(m.state)}, {"timestamp_ms", m.timestamp_ms}, {"topic", m.topic},
                      {"environment", m.environment}};
    }
    return out;
}

}  // namespace apns_sim
