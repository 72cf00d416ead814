// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// POST /token (docs/fcm.md §1): the form body, the JWT bearer assertion (RFC 7523) and its RS256
// signature, answered with Google's OAuth error codes and descriptions.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "auth/service_account.hpp"

namespace fcm_sim {

inline constexpr std::string_view jwt_bearer_grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
inline constexpr std::string_view fcm_scope = "https://www.googleapis.com/auth/firebase.messaging";

struct OAuthError {
    int status = 400;
    std::string error;        // invalid_grant, invalid_scope, unsupported_grant_type, invalid_request, ...
    std::string description;  // error_description
};

// application/x-www-form-urlencoded; nullopt on a bad %-escape.
std::optional<std::map<std::string, std::string>> parse_form(std::string_view body);

struct AssertionResult {
    const ServiceAccount* account = nullptr;  // set when the assertion is good
    std::string iss;                          // as claimed, for the log
    std::string kid;
    std::optional<OAuthError> error;
};

// The whole token request, first failure answers. now_s: the simulator's clock; skew_s: how far
// iat may lie in the future.
AssertionResult check_token_request(const std::string& content_type, const std::string& body,
                                    const ServiceAccounts& accounts, std::int64_t now_s, std::int64_t skew_s);

// True when signature is RSASSA-PKCS1-v1_5 SHA-256 of signing_input under key.
bool verify_rs256(std::string_view signing_input, std::string_view signature, EVP_PKEY* key);

}  // namespace fcm_sim
