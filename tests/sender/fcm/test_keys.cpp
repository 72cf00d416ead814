// SPDX-License-Identifier: BSD-2-Clause
#include "tests/sender/fcm/test_keys.hpp"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <stdexcept>

namespace pushsync::sender::fcm::test {

namespace {

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

Pkey make_rsa_key(int bits) {
    Pkey key(EVP_RSA_gen(static_cast<unsigned int>(bits)));
    if (!key) throw std::runtime_error("EVP_RSA_gen failed");
    return key;
}

EVP_PKEY* shared_rsa_key() {
    static const Pkey key = make_rsa_key(2048);
    return key.get();
}

Pkey make_p256_key() {
    Pkey key(EVP_EC_gen("P-256"));
    if (!key) throw std::runtime_error("EVP_EC_gen failed");
    return key;
}

std::string pkcs8_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        throw std::runtime_error("PEM_write_bio_PKCS8PrivateKey failed");
    }
    return bio_text(bio.get());
}

std::string pkcs1_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        throw std::runtime_error("PEM_write_bio_PrivateKey_traditional failed");
    }
    return bio_text(bio.get());
}

nlohmann::ordered_json account_json(const std::string& pem) {
    return {
        {"type", "service_account"},
        {"project_id", "pushsync-test"},
        {"private_key_id", "0123456789abcdef0123456789abcdef01234567"},
        {"private_key", pem.empty() ? pkcs8_pem(shared_rsa_key()) : pem},
        {"client_email", "sender@pushsync-test.iam.gserviceaccount.com"},
        {"client_id", "123456789012345678901"},
        {"auth_uri", "https://accounts.google.com/o/oauth2/auth"},
        {"token_uri", "https://oauth2.googleapis.com/token"},
        {"universe_domain", "googleapis.com"},
    };
}

std::string base64url_decode(std::string_view text) {
    auto value = [](char c) -> std::uint32_t {
        if (c >= 'A' && c <= 'Z') return static_cast<std::uint32_t>(c - 'A');
        if (c >= 'a' && c <= 'z') return static_cast<std::uint32_t>(c - 'a' + 26);
        if (c >= '0' && c <= '9') return static_cast<std::uint32_t>(c - '0' + 52);
        if (c == '-') return 62;
        if (c == '_') return 63;
        throw std::invalid_argument(std::string("not base64url: ") + c);
    };
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        acc = (acc << 6) | value(c);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

std::vector<std::string> split_dots(const std::string& jwt) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto dot = jwt.find('.', start);
        parts.push_back(jwt.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos) return parts;
        start = dot + 1;
    }
}

bool verify_rs256(EVP_PKEY* key, std::string_view input, std::string_view signature) {
    // Only the public half: what Google (or the simulator) holds.
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key);
    Pkey pub(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!pub) throw std::runtime_error("cannot re-read the public key");
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    if (EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, pub.get()) != 1) return false;
    // RS256 is PKCS#1 v1.5; say so rather than rely on the default.
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

}  // namespace pushsync::sender::fcm::test
