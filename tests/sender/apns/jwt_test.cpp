// SPDX-License-Identifier: BSD-2-Clause
// ES256 provider tokens: the JWS form APNs documents, verified with OpenSSL and the public key,
// and the sharing rules (50-minute refresh, 20 minutes between switches on one connection, one
// refresh per expired generation) under an injected clock.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sender/apns/jwt.hpp"

namespace pushsync::sender {
namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey generate_p256() {
    Pkey key(EVP_EC_gen("P-256"));
    if (!key) throw std::runtime_error("EVP_EC_gen failed");
    return key;
}

std::string private_pem(EVP_PKEY* key) {  // PKCS#8, as Apple's .p8 files are
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::string base64url_decode(std::string_view text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '-') return 62;
        if (c == '_') return 63;
        throw std::invalid_argument(std::string("not base64url: ") + c);
    };
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        acc = (acc << 6) | static_cast<std::uint32_t>(value(c));
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
        auto dot = jwt.find('.', start);
        parts.push_back(jwt.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos) return parts;
        start = dot + 1;
    }
}

// RFC 7518 §3.4 check: raw r‖s converted back to DER and verified with the public key.
bool verify_es256(EVP_PKEY* key, const std::string& signing_input, const std::string& raw) {
    if (raw.size() != 64) return false;
    ECDSA_SIG* sig = ECDSA_SIG_new();
    auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
    ECDSA_SIG_set0(sig, BN_bin2bn(bytes, 32, nullptr), BN_bin2bn(bytes + 32, 32, nullptr));
    unsigned char* der = nullptr;
    int der_len = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
              EVP_DigestVerify(ctx, der, static_cast<size_t>(der_len),
                               reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return ok;
}

TEST(Base64Url, EncodesWithoutPaddingInTheUrlAlphabet) {
    EXPECT_EQ(base64url_encode(""), "");
    EXPECT_EQ(base64url_encode("f"), "Zg");
    EXPECT_EQ(base64url_encode("fo"), "Zm8");
    EXPECT_EQ(base64url_encode("foo"), "Zm9v");
    EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
    EXPECT_EQ(base64url_encode(std::string("\xfb\xff\xfe", 3)), "-__-");
}

TEST(ProviderToken, HasApnsHeaderAndClaimsAndVerifiesWithThePublicKey) {
    Pkey pair = generate_p256();
    Es256Key key = Es256Key::from_pem(private_pem(pair.get()), "test.p8");
    std::string jwt = make_provider_token(key, "ABC123DEFG", "DEF123GHIJ", 1764147600);

    auto parts = split_dots(jwt);
    ASSERT_EQ(parts.size(), 3u);
    for (const auto& part : parts) EXPECT_EQ(part.find_first_of("=+/"), std::string::npos) << part;
    EXPECT_EQ(base64url_decode(parts[0]), R"({"alg":"ES256","kid":"ABC123DEFG"})");
    EXPECT_EQ(base64url_decode(parts[1]), R"({"iss":"DEF123GHIJ","iat":1764147600})");
    std::string signature = base64url_decode(parts[2]);
    EXPECT_EQ(signature.size(), 64u);
    EXPECT_EQ(parts[2].size(), 86u);  // 64 bytes, unpadded
    EXPECT_TRUE(verify_es256(pair.get(), parts[0] + "." + parts[1], signature));

    std::string tampered = parts[0] + "." + base64url_encode(R"({"iss":"OTHERTEAM1","iat":1764147600})");
    EXPECT_FALSE(verify_es256(pair.get(), tampered, signature));
    Pkey other = generate_p256();
    EXPECT_FALSE(verify_es256(other.get(), parts[0] + "." + parts[1], signature));
}

TEST(ProviderToken, SignaturesAreAlways64BytesEvenWithShortRorS) {
    // One in 256 signatures has an r or s with a leading zero byte: DER drops it, raw keeps it.
    Pkey pair = generate_p256();
    Es256Key key = Es256Key::from_pem(private_pem(pair.get()), "test.p8");
    for (int i = 0; i < 600; ++i) {
        std::string input = "input-" + std::to_string(i);
        std::string raw = key.sign(input);
        ASSERT_EQ(raw.size(), 64u);
        ASSERT_TRUE(verify_es256(pair.get(), input, raw)) << i;
    }
}

TEST(Es256Key, RefusesWhatIsNotAP256PrivateKeyNamingTheFile) {
    try {
        Es256Key::from_pem("not a key", "/etc/pushsync/AuthKey.p8");
        FAIL() << "accepted garbage";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/etc/pushsync/AuthKey.p8"), std::string::npos) << e.what();
    }
    Pkey p384(EVP_EC_gen("P-384"));
    EXPECT_THROW(Es256Key::from_pem(private_pem(p384.get()), "p384.p8"), std::runtime_error);
    try {
        Es256Key::from_pem_file("/nonexistent/AuthKey_X.p8");
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/AuthKey_X.p8"), std::string::npos);
    }
}

class JwtCacheTest : public ::testing::Test {
protected:
    std::int64_t now = 1764147600;
    Pkey pair = generate_p256();
    std::shared_ptr<JwtCache> cache = std::make_shared<JwtCache>(
        Es256Key::from_pem(private_pem(pair.get()), "test.p8"), "TEAM123456", "KEY1234567", [this] { return now; });
    static std::int64_t iat_of(const std::string& jwt) {
        return nlohmann::json::parse(base64url_decode(split_dots(jwt)[1])).at("iat").get<std::int64_t>();
    }
};

TEST_F(JwtCacheTest, KeepsOneTokenFor50MinutesThenMintsANewOne) {
    JwtCache::Token first = cache->current();
    EXPECT_EQ(first.generation, 1u);
    EXPECT_EQ(iat_of(first.jwt), now);
    now += 49 * 60 + 59;
    EXPECT_EQ(cache->current().jwt, first.jwt);
    now += 1;
    JwtCache::Token second = cache->current();
    EXPECT_EQ(second.generation, 2u);
    EXPECT_EQ(iat_of(second.jwt), now);
}

TEST_F(JwtCacheTest, ConnectionsShareTheTokenAndSwitchAt50MinutesNeverWithin20) {
    ConnectionToken a(cache), b(cache);
    std::string t0 = a.get().jwt;
    EXPECT_EQ(b.get().jwt, t0);  // shared, not minted per connection

    // Generation 1 expired at APNs (clock skew): it is replaced, and the connection that got the
    // 403 is closed; its replacement presents the new token at once...
    now += 10 * 60;
    cache->expired(1);
    ConnectionToken replacement(cache);
    std::string t1 = replacement.get().jwt;
    EXPECT_NE(t1, t0);
    EXPECT_EQ(cache->current().generation, 2u);
    // ...but `b` got no 403 and must not switch within 20 minutes of its own last switch.
    EXPECT_EQ(b.get().jwt, t0);
    // Every switch of every connection stays at least 20 minutes after its previous one.
    std::int64_t a_switch = a.switched_at_s(), b_switch = b.switched_at_s();
    std::uint64_t a_switches = a.switches(), b_switches = b.switches();
    for (int minute = 0; minute < 300; ++minute) {
        now += 60;
        a.get();
        b.get();
        for (auto [token, last, count] : {std::tuple{&a, &a_switch, &a_switches}, std::tuple{&b, &b_switch, &b_switches}}) {
            if (token->switches() != *count) {
                EXPECT_GE(token->switched_at_s() - *last, JwtCache::min_switch_interval_s);
                *last = token->switched_at_s();
                *count = token->switches();
            }
            // and the token in use is always well within its hour
            EXPECT_LT(now - token->get().issued_at_s, 55 * 60);
        }
    }
    EXPECT_GE(a.switches(), 6u);
}

TEST_F(JwtCacheTest, ANewConnectionNeverAdoptsATokenTooOldToKeep20Minutes) {
    ConnectionToken first(cache);
    first.get();
    now += 35 * 60;  // the cached token is 35 minutes old: 20 more would be 55
    ConnectionToken late(cache);
    const JwtCache::Token& token = late.get();
    EXPECT_EQ(token.issued_at_s, now);
    EXPECT_EQ(token.generation, 2u);
}

TEST_F(JwtCacheTest, ConcurrentExpiredAnswersRefreshOncePerGeneration) {
    ConnectionToken a(cache), b(cache), c(cache);
    std::uint64_t gen = a.get().generation;
    b.get();
    c.get();
    cache->expired(gen);
    cache->expired(gen);
    cache->expired(gen);
    EXPECT_EQ(cache->current().generation, gen + 1);
    // Their replacements share the one new token.
    ConnectionToken a2(cache), b2(cache);
    EXPECT_EQ(a2.get().jwt, b2.get().jwt);
    EXPECT_EQ(a2.get().generation, gen + 1);
    // A late 403 for the old generation changes nothing either.
    cache->expired(gen);
    EXPECT_EQ(cache->current().generation, gen + 1);
}

}  // namespace
}  // namespace pushsync::sender
