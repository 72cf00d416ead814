// SPDX-License-Identifier: BSD-2-Clause
// The OAuth assertion: the header and claims docs/fcm.md §1 names, an RS256 signature that the
// public half of the key verifies (and that fails once a claim is changed), and the form body.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sender/fcm/auth/assertion.hpp"
#include "shared/base64url.hpp"
#include "tests/sender/fcm/test_keys.hpp"

namespace pushsync::sender::fcm {
namespace {

using test::base64url_decode;
using test::split_dots;

ServiceAccount test_account() { return parse_service_account(test::account_json().dump(), "test.json"); }

TEST(FcmAssertion, HeaderAndClaimsAreTheDocumentedOnesInOrder) {
    const ServiceAccount account = test_account();
    const std::string jwt = make_assertion(account, 1'764'147'600);
    const auto parts = split_dots(jwt);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(base64url_decode(parts[0]), R"({"alg":"RS256","typ":"JWT","kid":"0123456789abcdef0123456789abcdef01234567"})");
    EXPECT_EQ(base64url_decode(parts[1]),
              R"({"iss":"sender@pushsync-test.iam.gserviceaccount.com","sub":"sender@pushsync-test.iam.gserviceaccount.com",)"
              R"("scope":"https://www.googleapis.com/auth/firebase.messaging","aud":"https://oauth2.googleapis.com/token",)"
              R"("iat":1764147600,"exp":1764151200})");
    // base64url without padding: none of '=', '+', '/'.
    EXPECT_EQ(jwt.find_first_of("=+/"), std::string::npos);
}

TEST(FcmAssertion, SignatureVerifiesWithThePublicKeyAndOnlyOverTheSignedBytes) {
    const ServiceAccount account = test_account();
    const std::string jwt = make_assertion(account, 1'764'147'600);
    const auto parts = split_dots(jwt);
    ASSERT_EQ(parts.size(), 3u);
    const std::string signature = base64url_decode(parts[2]);
    EXPECT_EQ(signature.size(), 256u);  // RSA 2048: as long as the modulus
    EXPECT_TRUE(test::verify_rs256(test::shared_rsa_key(), parts[0] + "." + parts[1], signature));

    // Another subject under the same signature must not verify.
    nlohmann::json claims = nlohmann::json::parse(base64url_decode(parts[1]));
    claims["sub"] = "intruder@example.com";
    EXPECT_FALSE(test::verify_rs256(test::shared_rsa_key(), parts[0] + "." + base64url_encode(claims.dump()), signature));
    // Nor under another key.
    const auto other = test::make_rsa_key(2048);
    EXPECT_FALSE(test::verify_rs256(other.get(), parts[0] + "." + parts[1], signature));
}

TEST(FcmAssertion, AudienceMayNameAnotherTokenEndpoint) {
    const ServiceAccount account = test_account();
    const auto parts = split_dots(make_assertion(account, 100, "https://127.0.0.1:2199/token"));
    const auto claims = nlohmann::json::parse(base64url_decode(parts.at(1)));
    EXPECT_EQ(claims.at("aud"), "https://127.0.0.1:2199/token");
    EXPECT_EQ(claims.at("iat"), 100);
    EXPECT_EQ(claims.at("exp"), 3700);
}

TEST(FcmAssertion, AValueWithQuotesStaysAJsonString) {
    ServiceAccount account = test_account();
    account.client_email = "a\"b\\c\n@example.com";
    const auto parts = split_dots(make_assertion(account, 1));
    const auto claims = nlohmann::json::parse(base64url_decode(parts.at(1)));
    EXPECT_EQ(claims.at("iss"), "a\"b\\c\n@example.com");
}

TEST(FcmAssertion, FormBodyIsTheJwtBearerGrant) {
    EXPECT_EQ(token_request_body("aaa.bbb.c-_"),
              "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=aaa.bbb.c-_");
    // What a JWS never holds is still encoded rather than pasted into the form.
    EXPECT_EQ(token_request_body("a&b=c d+"),
              "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a%26b%3Dc%20d%2B");
}

TEST(FcmRsaKey, SignsWithPkcs1V15Sha256) {
    const RsaKey key = RsaKey::from_pem(test::pkcs8_pem(test::shared_rsa_key()));
    EXPECT_EQ(key.bits(), 2048);
    const std::string signature = key.sign_rs256("hello");
    EXPECT_TRUE(test::verify_rs256(test::shared_rsa_key(), "hello", signature));
    EXPECT_FALSE(test::verify_rs256(test::shared_rsa_key(), "hellO", signature));
    // PKCS#1 v1.5 is deterministic, unlike PSS: the same bytes sign the same.
    EXPECT_EQ(key.sign_rs256("hello"), signature);
}

}  // namespace
}  // namespace pushsync::sender::fcm
