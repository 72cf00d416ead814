// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Registration tokens marked through the control API: gone (404 UNREGISTERED from a moment on),
// not a token (400 INVALID_ARGUMENT), another sender's (403 SENDER_ID_MISMATCH). Unmarked
// tokens that look like tokens are delivered.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>

#include "send/errors.hpp"

namespace fcm_sim {

enum class TokenState { valid, unregistered, invalid, sender_id_mismatch };

class TokenMarks {
public:
    // {"state":"unregistered","timestamp_ms":N} (default: now) | {"state":"invalid"} |
    // {"state":"sender_id_mismatch"} | {"state":"valid"}. Throws std::invalid_argument.
    void mark(const std::string& token, const nlohmann::json& body, std::int64_t now_ms);
    bool forget(const std::string& token) { return marks_.erase(token) > 0; }
    void clear() { marks_.clear(); }
    // The refusal a send to this token at now_ms gets, if any.
    std::optional<FcmError> refusal(const std::string& token, std::int64_t now_ms) const;
    nlohmann::json to_json() const;

private:
    struct Mark {
        TokenState state = TokenState::valid;
        std::int64_t from_ms = 0;  // unregistered: sends received at or after this answer 404
    };
    std::unordered_map<std::string, Mark> marks_;
};

}  // namespace fcm_sim
