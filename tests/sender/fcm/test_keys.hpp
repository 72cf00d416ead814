// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Keys and service-account files made in the test, and the JWS decoding the tests check with.
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pushsync::sender::fcm::test {

struct PkeyFree {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// One 2048-bit RSA key per test binary (making one takes a noticeable fraction of a second).
EVP_PKEY* shared_rsa_key();
Pkey make_rsa_key(int bits);
Pkey make_p256_key();
std::string pkcs8_pem(EVP_PKEY* key);
std::string pkcs1_pem(EVP_PKEY* key);  // "BEGIN RSA PRIVATE KEY"

// A service-account file as Google writes it, with shared_rsa_key() unless `pem` is given.
nlohmann::ordered_json account_json(const std::string& pem = {});

std::string base64url_decode(std::string_view text);  // throws std::invalid_argument
std::vector<std::string> split_dots(const std::string& jwt);
// RS256 check of `signature` over `input` with the public half of `key`.
bool verify_rs256(EVP_PKEY* key, std::string_view input, std::string_view signature);

}  // namespace pushsync::sender::fcm::test
