// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Provider tokens (RFC 7519 JWT signed ES256, RFC 7518 §3.4): split, decode and verify.
#include <openssl/evp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tools/sim-common/base64url.hpp"

namespace apns_sim {

using sim::base64url_decode;
using sim::base64url_encode;

struct Jwt {
    std::string alg;
    std::string kid;
    std::string iss;
    std::int64_t iat = 0;
    std::string signing_input;  // header.claims, as sent
    std::string signature;      // decoded bytes
};

// nullopt when not three base64url parts of JSON with alg, kid, iss and an integer iat.
std::optional<Jwt> parse_jwt(std::string_view token);

// True when `jwt.signature` is a valid ES256 signature of the signing input by `key`.
// Raw r||s (64 bytes) always; DER only when `accept_der`.
bool verify_es256(const Jwt& jwt, EVP_PKEY* key, bool accept_der);

}  // namespace apns_sim
