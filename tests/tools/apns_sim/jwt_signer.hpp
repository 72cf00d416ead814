// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Provider tokens signed the way a sender must (ES256, raw r||s), or deliberately wrong (DER).
#include <cstdint>
#include <filesystem>
#include <string>

namespace pushsync::test {

enum class SignatureEncoding { raw, der };

// Signs {"alg":"ES256","kid":key_id} . {"iss":team_id,"iat":iat} with the PKCS#8 key in `p8`.
std::string make_jwt(const std::filesystem::path& p8, const std::string& key_id, const std::string& team_id,
                     std::int64_t iat, SignatureEncoding encoding = SignatureEncoding::raw);

// A fresh P-256 key written as PKCS#8 PEM (for "unknown key" and "other team" cases).
void write_new_p256_key(const std::filesystem::path& p8);

std::int64_t unix_now_s();

}  // namespace pushsync::test
