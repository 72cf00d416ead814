// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// ES256 provider tokens for APNs token auth (docs/apns.md §3), and the rules for sharing them:
// one cache per (team, key), one ConnectionToken per HTTP/2 connection.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "shared/base64url.hpp"

struct evp_pkey_st;

namespace pushsync::sender {

// A P-256 private key read from a PKCS#8 PEM (.p8) file.
class Es256Key {
public:
    // Throws std::runtime_error naming the file when it cannot be read or is not a P-256 key.
    static Es256Key from_pem_file(const std::string& path);
    static Es256Key from_pem(std::string_view pem, const std::string& name_for_errors);

    Es256Key(Es256Key&&) noexcept;
    Es256Key& operator=(Es256Key&&) noexcept;
    ~Es256Key();

    // The JWS ES256 signature of `data`: raw r‖s, exactly 64 bytes (RFC 7518 §3.4), converted
    // from the DER ECDSA-Sig-Value OpenSSL produces — APNs' documented form.
    std::string sign(std::string_view data) const;
    evp_pkey_st* pkey() const noexcept { return key_.get(); }

private:
    struct Free {
        void operator()(evp_pkey_st* key) const noexcept;
    };
    explicit Es256Key(std::unique_ptr<evp_pkey_st, Free> key) : key_(std::move(key)) {}
    std::unique_ptr<evp_pkey_st, Free> key_;
};

// header {"alg":"ES256","kid":key_id} . claims {"iss":team_id,"iat":issued_at} . signature
std::string make_provider_token(const Es256Key& key, std::string_view key_id, std::string_view team_id,
                                std::int64_t issued_at_s);

// The current provider token of one (team, key), shared by every connection that uses it.
// Generations number the tokens minted so far: a 403 ExpiredProviderToken names the generation
// it answered, so concurrent 403s refresh once rather than stampede (node-apn's rule).
class JwtCache {
public:
    using Clock = std::function<std::int64_t()>;  // Unix seconds
    static constexpr std::int64_t refresh_after_s = 50 * 60;     // pushy and apns2 use 50 min
    static constexpr std::int64_t max_adopt_age_s = 30 * 60;     // see ConnectionToken
    static constexpr std::int64_t min_switch_interval_s = 20 * 60;  // APNs: TooManyProviderTokenUpdates

    struct Token {
        std::string jwt;
        std::uint64_t generation = 0;  // 1 for the first token
        std::int64_t issued_at_s = 0;
    };

    JwtCache(Es256Key key, std::string team_id, std::string key_id, Clock clock = {});

    // The current token, minted anew once it is 50 minutes old.
    const Token& current();
    // The token a connection should switch to: a fresh one if the current is older than
    // max_adopt_age_s, so the connection can keep it 20 minutes within its hour of validity.
    const Token& adoptable();
    // APNs said the token of `generation` expired: mint a new one unless that already happened.
    void expired(std::uint64_t generation);

    std::int64_t now() const { return clock_(); }
    const std::string& team_id() const noexcept { return team_id_; }
    const std::string& key_id() const noexcept { return key_id_; }

private:
    void mint();

    Es256Key key_;
    std::string team_id_;
    std::string key_id_;
    Clock clock_;
    Token token_;
};

// The token one HTTP/2 connection presents. APNs refuses a new token on the same connection
// within 20 minutes (429 TooManyProviderTokenUpdates) and an hour-old one (403
// ExpiredProviderToken). A connection therefore adopts a token at most 30 minutes old and
// switches only once its own is 50 minutes old, so switches are at least 20 minutes apart. When
// APNs calls a token expired the connection is closed instead: it would refuse the new one too.
class ConnectionToken {
public:
    explicit ConnectionToken(std::shared_ptr<JwtCache> cache) : cache_(std::move(cache)) {}

    // The token for the next request on this connection.
    const JwtCache::Token& get();
    std::int64_t switched_at_s() const noexcept { return switched_at_s_; }
    std::uint64_t switches() const noexcept { return switches_; }

private:
    void adopt(const JwtCache::Token& token);

    std::shared_ptr<JwtCache> cache_;
    JwtCache::Token token_;  // generation 0: none yet
    std::int64_t switched_at_s_ = 0;
    std::uint64_t switches_ = 0;
};

}  // namespace pushsync::sender
