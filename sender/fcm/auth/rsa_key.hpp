// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The RSA private key of a Google service account and the RS256 signature (RSASSA-PKCS1-v1_5
// with SHA-256, RFC 7518 §3.3) that its OAuth assertions carry (docs/fcm.md §1).
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

struct evp_pkey_st;

namespace pushsync::sender::fcm {

// Why a PEM text is not a usable RSA key: what() is the problem alone, without a file name
// (the service-account parser puts "FILE: private_key: " before it).
class RsaKeyError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class RsaKey {
public:
    // Google's keys are 2048 bits; RFC 7518 §3.3 asks for at least 2048. Above 8192 is no key
    // Google hands out, and each signature would cost tens of milliseconds of the event loop.
    static constexpr int min_bits = 2048;
    static constexpr int max_bits = 8192;

    // Reads a PEM private key: PKCS#8 ("BEGIN PRIVATE KEY", as Google writes it) or PKCS#1
    // ("BEGIN RSA PRIVATE KEY"). An encrypted key is refused, never prompted for. Errors:
    //   RsaKeyError "not a PEM private key": no PEM block, bad base64, bad DER, or encrypted.
    //   RsaKeyError "not an RSA key (EC)": another algorithm (RSA-PSS keys included: RS256 needs
    //     rsaEncryption).
    //   RsaKeyError "RSA key of N bits; ...": outside [min_bits, max_bits].
    static RsaKey from_pem(std::string_view pem);

    RsaKey(RsaKey&&) noexcept;
    RsaKey& operator=(RsaKey&&) noexcept;
    ~RsaKey();

    // The RS256 signature of `data` (as long as the modulus). Errors: std::runtime_error when
    // OpenSSL fails to sign (out of memory, a key whose numbers do not make an RSA key).
    std::string sign_rs256(std::string_view data) const;
    int bits() const noexcept;
    evp_pkey_st* pkey() const noexcept { return key_.get(); }

private:
    struct Free {
        void operator()(evp_pkey_st* key) const noexcept;
    };
    explicit RsaKey(std::unique_ptr<evp_pkey_st, Free> key) : key_(std::move(key)) {}
    std::unique_ptr<evp_pkey_st, Free> key_;
};

}  // namespace pushsync::sender::fcm
