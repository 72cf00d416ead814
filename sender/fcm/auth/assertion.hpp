// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The OAuth 2.0 JWT-bearer assertion (RFC 7523) a service account trades for an access token,
// and the form body that carries it to the token endpoint (docs/fcm.md §1).
#include <cstdint>
#include <string>
#include <string_view>

#include "sender/fcm/auth/service_account.hpp"

namespace pushsync::sender::fcm {

inline constexpr std::string_view messaging_scope = "https://www.googleapis.com/auth/firebase.messaging";
// Google refuses an assertion whose exp is more than an hour past its iat.
inline constexpr std::int64_t assertion_lifetime_s = 3600;

// header {"alg":"RS256","typ":"JWT","kid":private_key_id} . claims {"iss":client_email,
// "sub":client_email,"scope":messaging_scope,"aud":audience,"iat":issued_at_s,
// "exp":issued_at_s+3600} . RS256 signature, each part base64url without padding. `audience`
// empty: the account's token_uri (fcm.token_uri may name a simulator's instead, which then
// checks its own). Errors: std::runtime_error when OpenSSL cannot sign (RsaKey::sign_rs256).
std::string make_assertion(const ServiceAccount& account, std::int64_t issued_at_s, std::string_view audience = {});

// grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=<assertion>, for
// content-type application/x-www-form-urlencoded. A JWS is only base64url and dots, which a
// form carries as they are; anything else in `assertion` is percent-encoded.
std::string token_request_body(std::string_view assertion);

}  // namespace pushsync::sender::fcm
