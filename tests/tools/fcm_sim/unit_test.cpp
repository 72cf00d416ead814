// SPDX-License-Identifier: BSD-2-Clause
// fcm-sim's pure parts: the duration and token syntax, the form body, the message shape, RS256.
#include <gtest/gtest.h>

#include "auth/assertion.hpp"
#include "send/message.hpp"
#include "tests/tools/fcm_sim/fcm_test_support.hpp"
#include "tools/sim-common/base64url.hpp"

namespace fcm_sim {
namespace {

TEST(Duration, ProtobufJsonDurationSyntax) {
    for (const char* ok : {"0s", "3600s", "1.5s", "1.123456789s", "2419200s"}) EXPECT_TRUE(is_duration(ok)) << ok;
    for (const char* bad : {"", "s", "60", "1.s", ".5s", "1.1234567890s", "-1s", "1e3s", " 1s", "1ms"}) {
        EXPECT_FALSE(is_duration(bad)) << bad;
    }
}

TEST(RegistrationToken, UrlSafeTextOnly) {
    EXPECT_TRUE(is_registration_token(pushsync::test::fcm_token));
    EXPECT_FALSE(is_registration_token(""));
    EXPECT_FALSE(is_registration_token("a b"));
    EXPECT_FALSE(is_registration_token("a/b"));
}

TEST(Form, DecodesEscapesAndPlus) {
    auto f = parse_form("grant_type=urn%3Aietf%3Aparams&assertion=a.b.c&x=1+2&empty=");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->at("grant_type"), "urn:ietf:params");
    EXPECT_EQ(f->at("assertion"), "a.b.c");
    EXPECT_EQ(f->at("x"), "1 2");
    EXPECT_EQ(f->at("empty"), "");
    EXPECT_FALSE(parse_form("a=%zz"));
    EXPECT_FALSE(parse_form("a=%4"));
}

TEST(SendPath, ProjectFromThePath) {
    EXPECT_EQ(send_path_project("/v1/projects/p-1/messages:send"), "p-1");
    EXPECT_FALSE(send_path_project("/v1/projects//messages:send"));
    EXPECT_FALSE(send_path_project("/v1/projects/a/b/messages:send"));
    EXPECT_FALSE(send_path_project("/v1/projects/p/messages:sendx"));
}

TEST(MessageShape, PushsyncMessageParses) {
    auto c = check_message("application/json", pushsync::test::pushsync_message("tok", "tail", "normal", "30s"));
    ASSERT_FALSE(c.error) << c.error->body();
    EXPECT_EQ(c.message.token, "tok");
    EXPECT_EQ(c.message.tail, "tail");
    EXPECT_EQ(c.message.priority, "normal");
    EXPECT_EQ(c.message.ttl, "30s");
    EXPECT_TRUE(c.message.compact);
    auto spaced = check_message("application/json; charset=utf-8", R"({"message": {"token":"tok","data":{"tail":"t"},"android":{"priority":"high","ttl":"1s","collapse_key":"pushsync"}}})");
    ASSERT_FALSE(spaced.error);
    EXPECT_FALSE(spaced.message.compact);
}

TEST(Rs256, VerifiesOnlyTheSignedInput) {
    pushsync::test::TempDir dir;
    pushsync::test::write_new_rsa_key(dir / "k.pem");
    nlohmann::json sa = {{"type", "service_account"}, {"project_id", "p"}, {"private_key_id", "k1"},
                         {"private_key", pushsync::test::read_file(dir / "k.pem")}, {"client_email", "a@p"},
                         {"token_uri", "https://x/token"}};
    pushsync::test::write_file(dir / "sa.json", sa.dump());
    auto account = load_service_account((dir / "sa.json").string());
    pushsync::test::Assertion a{{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "k1"}}, {{"iss", "a@p"}}};
    const std::string jwt = pushsync::test::sign_assertion(a, dir / "k.pem");
    const auto dot = jwt.rfind('.');
    const auto sig = sim::base64url_decode(jwt.substr(dot + 1));
    ASSERT_TRUE(sig);
    EXPECT_TRUE(verify_rs256(jwt.substr(0, dot), *sig, account.public_key.get()));
    EXPECT_FALSE(verify_rs256(jwt.substr(0, dot) + "x", *sig, account.public_key.get()));
}

TEST(ServiceAccountFile, MissingFieldsAreNamed) {
    pushsync::test::TempDir dir;
    pushsync::test::write_file(dir / "sa.json", R"({"type":"service_account","project_id":"p"})");
    try {
        load_service_account((dir / "sa.json").string());
        FAIL() << "accepted a file without private_key_id";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("private_key_id"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace fcm_sim
