// SPDX-License-Identifier: BSD-2-Clause
#include "auth/access_tokens.hpp"

#include <algorithm>

#include "tools/sim-common/base64url.hpp"

namespace fcm_sim {

std::string AccessTokens::issue(const std::string& project_id, const std::string& client_email, std::int64_t now_ms,
                                std::int64_t lifetime_s) {
    std::string raw;
    for (int i = 0; i < 4; ++i) {
        const std::uint64_t v = rng_();
        raw.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    std::string token = "ya29.sim." + sim::base64url_encode(raw);
    tokens_[token] = Issued{project_id, client_email, now_ms + lifetime_s * 1000};
    return token;
}

BearerState AccessTokens::check(const std::string& token, const std::string& project_id, std::int64_t now_ms) const {
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return BearerState::unknown;
    if (now_ms >= it->second.expires_ms) return BearerState::expired;
    if (it->second.project_id != project_id) return BearerState::other_project;
    return BearerState::valid;
}

void AccessTokens::expire_all(std::int64_t now_ms) {
    for (auto& [token, issued] : tokens_) issued.expires_ms = std::min(issued.expires_ms, now_ms);
}

nlohmann::json AccessTokens::to_json() const {
    auto out = nlohmann::json::array();
    for (const auto& [token, issued] : tokens_) {
        out.push_back({{"access_token", token},
                       {"project_id", issued.project_id},
                       {"client_email", issued.client_email},
                       {"expires_ms", issued.expires_ms}});
    }
    return out;
}

}  // namespace fcm_sim
