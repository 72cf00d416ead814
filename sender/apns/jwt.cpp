// SPDX-License-Identifier: BSD-2-Clause
#include "sender/apns/jwt.hpp"

#include "sender/net/tls_context.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace pushsync::sender {

namespace {

std::int64_t system_now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct BioFree {
    void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
struct SigFree {
    void operator()(ECDSA_SIG* sig) const noexcept { ECDSA_SIG_free(sig); }
};

}  // namespace

void Es256Key::Free::operator()(evp_pkey_st* key) const noexcept { EVP_PKEY_free(key); }

Es256Key::Es256Key(Es256Key&&) noexcept = default;
Es256Key& Es256Key::operator=(Es256Key&&) noexcept = default;
Es256Key::~Es256Key() = default;

Es256Key Es256Key::from_pem_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read key file " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return from_pem(text.str(), path);
}

Es256Key Es256Key::from_pem(std::string_view pem, const std::string& name_for_errors) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw std::runtime_error("out of memory reading " + name_for_errors);
    std::unique_ptr<evp_pkey_st, Free> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) throw std::runtime_error(name_for_errors + ": not a PEM private key (" + openssl_error_text() + ")");
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC || EVP_PKEY_get_bits(key.get()) != 256) {
        throw std::runtime_error(name_for_errors + ": not a P-256 EC key (APNs .p8 keys are)");
    }
    char group[64] = {};
    size_t group_len = 0;
    if (EVP_PKEY_get_group_name(key.get(), group, sizeof group, &group_len) != 1 ||
        std::string_view(group) != "prime256v1") {
        throw std::runtime_error(name_for_errors + ": EC key is not on P-256");
    }
    return Es256Key(std::move(key));
}

std::string Es256Key::sign(std::string_view data) const {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
        throw std::runtime_error("ES256 sign init: " + openssl_error_text());
    }
    unsigned char der[80];  // a P-256 DER signature is at most 72 bytes
    size_t der_len = sizeof der;
    if (EVP_DigestSign(ctx.get(), der, &der_len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
        throw std::runtime_error("ES256 sign: " + openssl_error_text());
    }
    const unsigned char* p = der;
    std::unique_ptr<ECDSA_SIG, SigFree> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
    if (!sig) throw std::runtime_error("ES256 sign: cannot parse DER signature");
    std::string raw(64, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + 32, 32) != 32) {
        throw std::runtime_error("ES256 sign: r or s longer than 32 bytes");
    }
    return raw;
}

std::string make_provider_token(const Es256Key& key, std::string_view key_id, std::string_view team_id,
                                std::int64_t issued_at_s) {
    // Fixed member order, compact: exactly the JSON docs/apns.md §3 shows.
    nlohmann::ordered_json header = {{"alg", "ES256"}, {"kid", key_id}};
    nlohmann::ordered_json claims = {{"iss", team_id}, {"iat", issued_at_s}};
    std::string signing_input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
    std::string signature = key.sign(signing_input);
    return signing_input + "." + base64url_encode(signature);
}

JwtCache::JwtCache(Es256Key key, std::string team_id, std::string key_id, Clock clock)
    : key_(std::move(key)), team_id_(std::move(team_id)), key_id_(std::move(key_id)),
      clock_(clock ? std::move(clock) : Clock(system_now_s)) {}

void JwtCache::mint() {
    std::int64_t now = clock_();
    token_.jwt = make_provider_token(key_, key_id_, team_id_, now);
    token_.issued_at_s = now;
    ++token_.generation;
}

const JwtCache::Token& JwtCache::current() {
    if (token_.generation == 0 || clock_() - token_.issued_at_s >= refresh_after_s) mint();
    return token_;
}

const JwtCache::Token& JwtCache::adoptable() {
    if (token_.generation == 0 || clock_() - token_.issued_at_s > max_adopt_age_s) mint();
    return token_;
}

void JwtCache::expired(std::uint64_t generation) {
    if (generation == token_.generation) mint();
}

const JwtCache::Token& ConnectionToken::get() {
    if (token_.generation == 0 || cache_->now() - token_.issued_at_s >= JwtCache::refresh_after_s) {
        adopt(cache_->adoptable());
    }
    return token_;
}

void ConnectionToken::adopt(const JwtCache::Token& token) {
    if (token.generation == token_.generation) return;
    token_ = token;
    switched_at_s_ = cache_->now();
    ++switches_;
}

}  // namespace pushsync::sender
