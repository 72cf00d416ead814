// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Scripted faults: rules added through the control API that take over requests which passed
// every check, for the next N matching requests or at a rate (as apns-sim's), with FCM's answers.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace fcm_sim {

enum class FaultKind { quota, unavailable, internal, token_down, goaway, delay, silence };
enum class Endpoint { send, token };
const char* to_string(FaultKind k) noexcept;

struct FaultRule {
    std::uint64_t id = 0;
    FaultKind kind = FaultKind::internal;
    Endpoint on = Endpoint::send;
    std::int64_t remaining = 1;  // -1: unlimited
    double rate = 1.0;
    std::string token;           // "" = any registration token (sends only)
    int retry_after_s = 0;
    std::uint32_t delay_ms = 0;
    std::int32_t last_stream_id = -1;  // goaway; -1 = the stream before the triggering one
    std::uint32_t error_code = 0;
    std::string debug;
    std::uint64_t hits = 0;

    nlohmann::json to_json() const;
};

class Faults {
public:
    explicit Faults(std::uint64_t seed) : rng_(seed) {}
    // Throws std::invalid_argument naming the bad field.
    std::uint64_t add(const nlohmann::json& body);
    // The rule that takes this request, if any (consumes one of its count). token: "" on /token.
    std::optional<FaultRule> take(Endpoint endpoint, const std::string& token);
    void clear() { rules_.clear(); }
    nlohmann::json to_json() const;

private:
    std::vector<FaultRule> rules_;
    std::uint64_t next_id_ = 1;
    std::mt19937_64 rng_;
};

}  // namespace fcm_sim
