// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What the simulator knows about device tokens, marked through the control API. By default every
// well-formed token is a valid device of any topic in the served environment.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>

#include "options.hpp"

namespace apns_sim {

enum class TokenState { valid, bad, unregistered, expired };

struct DeviceMark {
    TokenState state = TokenState::valid;
    std::int64_t timestamp_ms = 0;  // unregistered: when the device stopped taking pushes
    std::string topic;              // valid: the only topic it belongs to ("" = any)
    std::string environment;        // valid: "" = the served one; else that environment
};

class DeviceRegistry {
public:
    // Throws std::invalid_argument with a message naming the bad field.
    void mark(const std::string& token, const nlohmann::json& body, std::int64_t now_ms);
    bool forget(const std::string& token);
    void clear() { marks_.clear(); }
    const DeviceMark* find(const std::string& token) const;
    nlohmann::json to_json() const;

private:
    std::unordered_map<std::string, DeviceMark> marks_;  // lowercase token
};

const char* to_string(TokenState s) noexcept;

}  // namespace apns_sim
