// SPDX-License-Identifier: BSD-2-Clause
// POST /token: a correctly signed assertion gets an access token; each wrong part is refused
// with Google's OAuth error.
#include <gtest/gtest.h>

#include <functional>

#include "tests/tools/fcm_sim/fcm_test_support.hpp"

namespace pushsync::test {
namespace {

class Token : public SharedFcmSim {
protected:
    H2Response post(const Assertion& a, const std::filesystem::path& key) {
        H2TestClient client(client_config(sim()));
        return post_token(client, token_form(sign_assertion(a, key)));
    }
    // The good assertion with one change, signed with the account's key.
    H2Response post_changed(const std::function<void(Assertion&)>& change) {
        Assertion a = good_assertion(sim(), account());
        change(a);
        return post(a, account().private_key_file);
    }
    static nlohmann::json json(const H2Response& r) { return nlohmann::json::parse(r.body, nullptr, false); }
    static void expect_oauth_error(const H2Response& r, int status, const std::string& error, const std::string& text) {
        EXPECT_EQ(r.status, status) << r.body;
        auto j = json(r);
        ASSERT_TRUE(j.is_object()) << r.body;
        EXPECT_EQ(j.value("error", ""), error) << r.body;
        EXPECT_NE(j.value("error_description", "").find(text), std::string::npos) << r.body;
    }
};

TEST_F(Token, CorrectlySignedAssertionGetsABearerToken) {
    auto r = post(good_assertion(sim(), account()), account().private_key_file);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json; charset=UTF-8");
    auto j = json(r);
    EXPECT_EQ(j["token_type"], "Bearer");
    EXPECT_EQ(j["expires_in"], 3599);
    EXPECT_FALSE(j.value("access_token", "").empty());
    auto issued = sim().access_tokens();
    ASSERT_EQ(issued.size(), 1u);
    EXPECT_EQ(issued[0]["access_token"], j["access_token"]);
    EXPECT_EQ(issued[0]["project_id"], "pushsync-test");
}

TEST_F(Token, EachAccountGetsTokensForItsOwnProject) {
    H2TestClient client(client_config(sim()));
    const auto& other = sim().service_account("other-project");
    auto a = access_token(client, sim(), account());
    auto b = access_token(client, sim(), other);
    EXPECT_NE(a, b);
    EXPECT_EQ(send(client, "pushsync-test", a, pushsync_message()).status, 200);
    EXPECT_EQ(send(client, "other-project", b, pushsync_message()).status, 200);
}

TEST_F(Token, SignatureByAnotherKeyIsInvalidGrant) {
    write_new_rsa_key(sim().dir() / "stranger.key");
    expect_oauth_error(post(good_assertion(sim(), account()), sim().dir() / "stranger.key"), 400, "invalid_grant",
                       "Invalid JWT Signature.");
}

TEST_F(Token, TamperedClaimsBreakTheSignature) {
    Assertion a = good_assertion(sim(), account());
    std::string jwt = sign_assertion(a, account().private_key_file);
    a.claims["iat"] = a.claims["iat"].get<std::int64_t>() - 1;
    const std::string other = sign_assertion(a, account().private_key_file);
    // claims of one, signature of the other
    const std::string spliced = other.substr(0, other.rfind('.')) + jwt.substr(jwt.rfind('.'));
    H2TestClient client(client_config(sim()));
    expect_oauth_error(post_token(client, token_form(spliced)), 400, "invalid_grant", "Invalid JWT Signature.");
}

TEST_F(Token, WrongKidIsInvalidSignature) {
    expect_oauth_error(post_changed([](Assertion& a) { a.header["kid"] = "0000000000000000000000000000000000000000"; }),
                       400, "invalid_grant", "Invalid JWT Signature.");
}

TEST_F(Token, WrongAlgOrTypIsInvalidGrant) {
    expect_oauth_error(post_changed([](Assertion& a) { a.header["alg"] = "RS384"; }), 400, "invalid_grant", "RS256");
    expect_oauth_error(post_changed([](Assertion& a) { a.header["typ"] = "JWS"; }), 400, "invalid_grant", "typ");
}

TEST_F(Token, UnknownIssuerIsAccountNotFound) {
    expect_oauth_error(post_changed([](Assertion& a) { a.claims["iss"] = "someone@else.iam.gserviceaccount.com"; }), 400,
                       "invalid_grant", "Invalid grant: account not found");
}

TEST_F(Token, SubjectOtherThanTheAccountIsUnauthorizedClient) {
    expect_oauth_error(post_changed([](Assertion& a) { a.claims["sub"] = "user@example.com"; }), 401,
                       "unauthorized_client", "unauthorized");
}

TEST_F(Token, WrongAudienceFailsTheAudienceCheck) {
    expect_oauth_error(post_changed([](Assertion& a) { a.claims["aud"] = "https://oauth2.googleapis.com/token"; }), 400,
                       "invalid_grant", "Failed audience check. The right audience is " + sim().token_uri());
}

TEST_F(Token, MissingOrOtherScopeIsInvalidScope) {
    expect_oauth_error(post_changed([](Assertion& a) { a.claims.erase("scope"); }), 400, "invalid_scope",
                       "Empty or missing scope");
    expect_oauth_error(post_changed([](Assertion& a) { a.claims["scope"] = "https://www.googleapis.com/auth/userinfo.email"; }),
                       400, "invalid_scope", "firebase.messaging");
    auto r = post_changed([](Assertion& a) {
        a.claims["scope"] = std::string("https://www.googleapis.com/auth/userinfo.email ") + fcm_scope;
    });
    EXPECT_EQ(r.status, 200) << "a scope list that includes firebase.messaging: " << r.body;
}

TEST_F(Token, TimesOutsideTheHourAreRefused) {
    const std::string text = "Token must be a short-lived token (60 minutes)";
    expect_oauth_error(post_changed([](Assertion& a) { a.claims["exp"] = a.claims["iat"].get<std::int64_t>() + 3601; }),
                       400, "invalid_grant", text);
    expect_oauth_error(post_changed([](Assertion& a) {
                           a.claims["iat"] = a.claims["iat"].get<std::int64_t>() - 7200;
                           a.claims["exp"] = a.claims["iat"].get<std::int64_t>() + 3600;
                       }),
                       400, "invalid_grant", text);  // expired
    expect_oauth_error(post_changed([](Assertion& a) {
                           a.claims["iat"] = a.claims["iat"].get<std::int64_t>() + 600;
                           a.claims["exp"] = a.claims["iat"].get<std::int64_t>() + 3600;
                       }),
                       400, "invalid_grant", text);  // from the future, beyond the skew
    expect_oauth_error(post_changed([](Assertion& a) { a.claims.erase("exp"); }), 400, "invalid_grant", text);
    auto r = post_changed([](Assertion& a) { a.claims["exp"] = a.claims["iat"].get<std::int64_t>() + 3600; });
    EXPECT_EQ(r.status, 200) << "exactly an hour is allowed: " << r.body;
}

TEST_F(Token, TheSimulatorClockDecidesExpiry) {
    Assertion a = good_assertion(sim(), account());  // iat = now
    sim().set_clock_offset(3601);
    expect_oauth_error(post(a, account().private_key_file), 400, "invalid_grant", "short-lived");
}

TEST_F(Token, FormAndGrantTypeAreChecked) {
    H2TestClient client(client_config(sim()));
    const std::string jwt = sign_assertion(good_assertion(sim(), account()), account().private_key_file);
    expect_oauth_error(post_token(client, "grant_type=client_credentials&assertion=" + jwt), 400, "unsupported_grant_type",
                       "Invalid grant_type: client_credentials");
    expect_oauth_error(post_token(client, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"), 400,
                       "invalid_request", "assertion");
    expect_oauth_error(post_token(client, token_form("not.a-jwt")), 400, "invalid_grant", "Invalid JWT");
    auto r = client.request("/token", {{"content-type", "application/json"}}, token_form(jwt));
    expect_oauth_error(r, 400, "invalid_request", "content-type");
}

TEST_F(Token, TokenRequestsAreLogged) {
    post(good_assertion(sim(), account()), account().private_key_file);
    post_changed([](Assertion& a) { a.claims["aud"] = "x"; });
    auto log = sim().request_log();
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0]["endpoint"], "token");
    EXPECT_EQ(log[0]["path"], "/token");
    EXPECT_EQ(log[0]["status"], 200);
    EXPECT_EQ(log[0]["project"], "pushsync-test");
    EXPECT_EQ(log[0]["client_email"], account().client_email);
    EXPECT_EQ(log[0]["kid"], account().private_key_id);
    EXPECT_GT(log[0]["received_us"].get<std::int64_t>(), 0);
    EXPECT_EQ(log[1]["status"], 400);
    EXPECT_EQ(log[1]["errorCode"], "invalid_grant");
    EXPECT_EQ(sim().counters()["tokens_issued"], 1);
}

}  // namespace
}  // namespace pushsync::test
