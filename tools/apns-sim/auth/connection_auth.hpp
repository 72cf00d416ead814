// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Authentication state of one APNs connection (docs/apns.md §3): either a client certificate that
// names its topic, or provider tokens bound to one team, refreshed at most every 20 minutes.
#include <cstdint>
#include <optional>
#include <string>

#include "options.hpp"
#include "requests/validation.hpp"
#include "common.hpp"
#include "auth/token_keys.hpp"

namespace apns_sim {

// What the TLS handshake learnt about the client certificate.
struct ClientCertificate {
    bool present = false;
    bool verified = false;
    std::string topic;             // subject UID
    bool multi_topic = false;      // carries Apple's topics extension (1.2.840.113635.100.6.3.6)
    bool production = true;        // Apple's environment extensions; both when neither is present
    bool sandbox = true;
};

class ConnectionAuth {
public:
    ConnectionAuth(ClientCertificate cert, const TokenKeys& keys, const SimClock& clock, const Options& opt)
        : cert_(std::move(cert)), keys_(keys), clock_(clock), opt_(opt) {}

    bool certificate_mode() const noexcept { return cert_.present; }
    // BadCertificate / BadCertificateEnvironment for every request of a bad certificate.
    std::optional<Rejection> certificate_problem() const;
    TopicPolicy topic_policy() const;

    // The authentication stage of a request whose headers passed.
    std::optional<Rejection> authorize(const Request& r, const Checked& c);

    const std::string& team() const noexcept { return team_; }
    const std::string& key_id() const noexcept { return key_id_; }
    const std::string& certificate_topic() const noexcept { return cert_.topic; }
    bool authorised_once() const noexcept { return authorised_once_; }

private:
    struct AcceptedToken {
        std::string jwt;
        const TokenKey* key = nullptr;
        std::int64_t iat = 0;
        std::int64_t accepted_at_s = 0;
    };

    std::optional<Rejection> authorize_token(const Request& r, const Checked& c);
    std::optional<Rejection> authorize_certificate(const Checked& c) const;

    ClientCertificate cert_;
    const TokenKeys& keys_;
    const SimClock& clock_;
    const Options& opt_;
    std::optional<AcceptedToken> current_;
    std::optional<AcceptedToken> previous_;  // requests already in flight when the client refreshed
    std::string team_;
    std::string key_id_;
    bool authorised_once_ = false;
};

}  // namespace apns_sim
