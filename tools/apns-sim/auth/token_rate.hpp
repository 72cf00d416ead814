// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// APNs' 429 TooManyRequests for "too many requests to the same device token": off unless
// --token-rate-limit N gives the pushes per token and second that pass.
#include <cstdint>
#include <string>
#include <unordered_map>

namespace apns_sim {

class TokenRate {
public:
    explicit TokenRate(std::uint32_t per_second) : limit_(per_second) {}
    bool allow(const std::string& token, std::int64_t now_s) {
        if (limit_ == 0) return true;
        auto& w = windows_[token];
        if (w.second != now_s) w = {0, now_s};
        return ++w.first <= limit_;
    }
    void clear() { windows_.clear(); }

private:
    std::uint32_t limit_;
    std::unordered_map<std::string, std::pair<std::uint32_t, std::int64_t>> windows_;  // count, second
};

}  // namespace apns_sim
