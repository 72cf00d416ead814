// SPDX-License-Identifier: BSD-2-Clause
#include "auth/connection_auth.hpp"

#include <strings.h>

#include "auth/jwt.hpp"

namespace apns_sim {

namespace {
Rejection forbidden(std::string reason) { return Rejection{403, std::move(reason), -1}; }
}  // namespace

std::optional<Rejection> ConnectionAuth::certificate_problem() const {
    if (!cert_.present) return std::nullopt;
    if (!cert_.verified || cert_.topic.empty()) return forbidden("BadCertificate");
    bool ok_env = opt_.environment == Environment::production ? cert_.production : cert_.sandbox;
    if (!ok_env) return forbidden("BadCertificateEnvironment");
    return std::nullopt;
}

TopicPolicy ConnectionAuth::topic_policy() const {
    TopicPolicy p;
    if (cert_.present && !cert_.multi_topic) {
        p.topic_required = false;
        p.default_topic = cert_.topic;
    }
    return p;
}

std::optional<Rejection> ConnectionAuth::authorize(const Request& r, const Checked& c) {
    auto rejection = cert_.present ? authorize_certificate(c) : authorize_token(r, c);
    if (!rejection) authorised_once_ = true;
    return rejection;
}

std::optional<Rejection> ConnectionAuth::authorize_certificate(const Checked& c) const {
    if (auto p = certificate_problem()) return p;
    // One certificate covers its app plus the app's VoIP and complication topics.
    bool covered = c.bundle == cert_.topic &&
                   (c.topic == cert_.topic || c.topic == cert_.topic + ".voip" ||
                    c.topic == cert_.topic + ".complication");
    if (!covered || c.push_type == "location") return Rejection{400, "TopicDisallowed", -1};
    return std::nullopt;
}

std::optional<Rejection> ConnectionAuth::authorize_token(const Request& r, const Checked& c) {
    if (!r.authorization) return forbidden("MissingProviderToken");
    const std::string& header = *r.authorization;
    if (header.size() < 7 || strncasecmp(header.c_str(), "bearer ", 7) != 0) return forbidden("InvalidProviderToken");
    std::string jwt_text = header.substr(7);

    AcceptedToken seen;
    bool known = false;
    if (current_ && current_->jwt == jwt_text) {
        seen = *current_;
        known = true;
    } else if (previous_ && previous_->jwt == jwt_text) {
        seen = *previous_;
        known = true;
    } else {
        auto jwt = parse_jwt(jwt_text);
        if (!jwt) return forbidden("InvalidProviderToken");
        const TokenKey* key = keys_.find(jwt->kid);
        if (!key) return forbidden("InvalidProviderToken");
        if (!key->environment.empty() && key->environment != to_string(opt_.environment)) {
            return forbidden("BadEnvironmentKeyIdInToken");
        }
        if (jwt->iss != key->team_id) return forbidden("InvalidProviderToken");
        if (!verify_es256(*jwt, key->public_key.get(), opt_.lenient_der)) return forbidden("InvalidProviderToken");
        seen.jwt = std::move(jwt_text);
        seen.key = key;
        seen.iat = jwt->iat;
    }

    std::int64_t now = clock_.now_s();
    if (seen.iat + opt_.jwt_max_age_s < now) return forbidden("ExpiredProviderToken");
    // APNs binds the team (and so its topics) on the first push of a connection.
    if (!team_.empty() && seen.key->team_id != team_) return forbidden("UnrelatedKeyIdInToken");
    if (!known) {
        if (current_ && now - current_->accepted_at_s < opt_.token_update_interval_s) {
            return Rejection{429, "TooManyProviderTokenUpdates", -1};
        }
        seen.accepted_at_s = now;
        previous_ = std::move(current_);
        current_ = seen;
    }
    if (!seen.key->allows_topic(c.bundle)) return Rejection{400, "TopicDisallowed", -1};
    team_ = seen.key->team_id;
    key_id_ = seen.key->key_id;
    return std::nullopt;
}

}  // namespace apns_sim
