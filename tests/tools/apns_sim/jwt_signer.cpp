// SPDX-License-Identifier: BSD-2-Clause
#include "tests/tools/apns_sim/jwt_signer.hpp"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tools/apns-sim/auth/jwt.hpp"

namespace pushsync::test {

namespace {

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Pkey load_key(const std::filesystem::path& p8) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(p8.c_str(), "r"), BIO_free);
    if (!bio) throw std::runtime_error("cannot read " + p8.string());
    Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (!key) throw std::runtime_error("not a PEM private key: " + p8.string());
    return key;
}

}  // namespace

std::int64_t unix_now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string make_jwt(const std::filesystem::path& p8, const std::string& key_id, const std::string& team_id,
                     std::int64_t iat, SignatureEncoding encoding) {
    using apns_sim::base64url_encode;
    const std::string input = base64url_encode(nlohmann::json{{"alg", "ES256"}, {"kid", key_id}}.dump()) + "." +
                              base64url_encode(nlohmann::json{{"iss", team_id}, {"iat", iat}}.dump());
    auto key = load_key(p8);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::size_t len = 0;
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
        throw std::runtime_error("EVP_DigestSign failed");
    }
    std::string der(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
        throw std::runtime_error("EVP_DigestSign failed");
    }
    der.resize(len);
    if (encoding == SignatureEncoding::der) return input + "." + apns_sim::base64url_encode(der);
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())),
                                                             ECDSA_SIG_free);
    if (!sig) throw std::runtime_error("d2i_ECDSA_SIG failed");
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    return input + "." + apns_sim::base64url_encode(raw);
}

void write_new_p256_key(const std::filesystem::path& p8) {
    Pkey key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    if (!key) throw std::runtime_error("EVP_EC_gen failed");
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(p8.c_str(), "w"), BIO_free);
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        throw std::runtime_error("cannot write " + p8.string());
    }
}

}  // namespace pushsync::test
