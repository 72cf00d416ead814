// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The access tokens POST /token issued: which project each may send for, and until when.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <unordered_map>

namespace fcm_sim {

enum class BearerState { valid, unknown, expired, other_project };

class AccessTokens {
public:
    explicit AccessTokens(std::uint64_t seed) : rng_(seed ^ 0x5deece66dull) {}
    // A new opaque token ("ya29.sim." + random), valid from now_ms for lifetime_s seconds.
    std::string issue(const std::string& project_id, const std::string& client_email, std::int64_t now_ms,
                      std::int64_t lifetime_s);
    BearerState check(const std::string& token, const std::string& project_id, std::int64_t now_ms) const;
    // Every issued token expires now: the next send with one answers 401 (a sender's refresh path).
    void expire_all(std::int64_t now_ms);
    void clear() { tokens_.clear(); }
    nlohmann::json to_json() const;

private:
    struct Issued {
        std::string project_id;
        std::string client_email;
        std::int64_t expires_ms;
    };
    std::unordered_map<std::string, Issued> tokens_;
    std::mt19937_64 rng_;
};

}  // namespace fcm_sim
