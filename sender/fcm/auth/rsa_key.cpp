// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fcm/auth/rsa_key.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <climits>
#include <string>

namespace pushsync::sender::fcm {

namespace {

struct BioFree {
    void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

// An encrypted PEM gets no passphrase: without this callback OpenSSL would ask the terminal.
int no_passphrase(char*, int, int, void*) { return 0; }

const char* algorithm_name(int id) {
    switch (id) {
        case EVP_PKEY_EC: return "EC";
        case EVP_PKEY_ED25519: return "Ed25519";
        case EVP_PKEY_ED448: return "Ed448";
        case EVP_PKEY_DSA: return "DSA";
        case EVP_PKEY_DH: return "DH";
        case EVP_PKEY_RSA_PSS: return "RSA-PSS";
        default: return "another algorithm";
    }
}

}  // namespace

void RsaKey::Free::operator()(evp_pkey_st* key) const noexcept { EVP_PKEY_free(key); }

RsaKey::RsaKey(RsaKey&&) noexcept = default;
RsaKey& RsaKey::operator=(RsaKey&&) noexcept = default;
RsaKey::~RsaKey() = default;

RsaKey RsaKey::from_pem(std::string_view pem) {
    if (pem.size() > static_cast<std::size_t>(INT_MAX)) throw RsaKeyError("not a PEM private key");
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw std::bad_alloc();
    std::unique_ptr<evp_pkey_st, Free> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    // The thread's OpenSSL error queue is shared with the TLS connections on this thread: a
    // leftover entry would be read as theirs.
    ERR_clear_error();
    if (!key) throw RsaKeyError("not a PEM private key");
    const int id = EVP_PKEY_get_base_id(key.get());
    if (id != EVP_PKEY_RSA) throw RsaKeyError(std::string("not an RSA key (") + algorithm_name(id) + ")");
    const int bits = EVP_PKEY_get_bits(key.get());
    if (bits < min_bits || bits > max_bits) {
        throw RsaKeyError("RSA key of " + std::to_string(bits) + " bits; a service-account key has " +
                          std::to_string(min_bits) + " to " + std::to_string(max_bits));
    }
    return RsaKey(std::move(key));
}

int RsaKey::bits() const noexcept { return EVP_PKEY_get_bits(key_.get()); }

std::string RsaKey::sign_rs256(std::string_view data) const {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    // An RSA key's default padding for EVP_DigestSign is PKCS#1 v1.5: exactly RS256.
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("RS256 sign: cannot initialise");
    }
    std::size_t size = 0;
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    if (EVP_DigestSign(ctx.get(), nullptr, &size, bytes, data.size()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("RS256 sign: cannot size the signature");
    }
    std::string signature(size, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, bytes, data.size()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("RS256 sign: OpenSSL refused to sign");
    }
    signature.resize(size);
    return signature;
}

}  // namespace pushsync::sender::fcm
