// SPDX-License-Identifier: BSD-2-Clause
// The simulator's pure parts: base64url, JWT parsing and ES256 verification, header checks.
#include <gtest/gtest.h>

#include "auth/jwt.hpp"
#include "requests/log.hpp"
#include "requests/validation.hpp"
#include "tests/tools/apns_sim/jwt_signer.hpp"
#include "tests/support/process.hpp"
#include "auth/token_keys.hpp"

namespace apns_sim {
namespace {

TEST(Base64Url, RoundTripsWithoutPadding) {
    for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00", 3)}) {
        auto enc = base64url_encode(s);
        EXPECT_EQ(enc.find('='), std::string::npos);
        EXPECT_EQ(base64url_decode(enc), s);
    }
    EXPECT_FALSE(base64url_decode("ab+/"));
    EXPECT_FALSE(base64url_decode("abc="));
}

TEST(Jwt, ParsesAndVerifiesRawAndDerOnlyWhenLenient) {
    pushsync::test::TempDir dir;
    pushsync::test::write_new_p256_key(dir / "k.p8");
    TokenKeys keys({TokenKeySpec{"KEY1234567", "TEAM123456", (dir / "k.p8").string(), {}, ""}});
    const TokenKey* key = keys.find("KEY1234567");
    ASSERT_NE(key, nullptr);
    auto raw = parse_jwt(pushsync::test::make_jwt(dir / "k.p8", "KEY1234567", "TEAM123456", 1000));
    ASSERT_TRUE(raw);
    EXPECT_EQ(raw->kid, "KEY1234567");
    EXPECT_EQ(raw->iss, "TEAM123456");
    EXPECT_EQ(raw->iat, 1000);
    EXPECT_EQ(raw->signature.size(), 64u);
    EXPECT_TRUE(verify_es256(*raw, key->public_key.get(), false));
    auto der = parse_jwt(pushsync::test::make_jwt(dir / "k.p8", "KEY1234567", "TEAM123456", 1000,
                                                  pushsync::test::SignatureEncoding::der));
    ASSERT_TRUE(der);
    EXPECT_FALSE(verify_es256(*der, key->public_key.get(), false));
    EXPECT_TRUE(verify_es256(*der, key->public_key.get(), true));
    raw->signing_input += "x";
    EXPECT_FALSE(verify_es256(*raw, key->public_key.get(), false));
    EXPECT_FALSE(parse_jwt("a.b"));
    EXPECT_FALSE(parse_jwt("a.b.c.d"));
}

TEST(TokenKeysFile, PublicKeyPemVerifiesAndBadFilesAreNamed) {
    pushsync::test::TempDir dir;
    pushsync::test::write_new_p256_key(dir / "k.p8");
    auto r = pushsync::test::run({"openssl", "pkey", "-in", (dir / "k.p8").string(), "-pubout", "-out", (dir / "k.pub.pem").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    TokenKeys keys({TokenKeySpec{"KEY1234567", "TEAM123456", (dir / "k.pub.pem").string(), {"com.a"}, ""}});
    auto jwt = parse_jwt(pushsync::test::make_jwt(dir / "k.p8", "KEY1234567", "TEAM123456", 1));
    ASSERT_TRUE(jwt);
    EXPECT_TRUE(verify_es256(*jwt, keys.find("KEY1234567")->public_key.get(), false));
    EXPECT_TRUE(keys.find("KEY1234567")->allows_topic("com.a"));
    EXPECT_FALSE(keys.find("KEY1234567")->allows_topic("com.b"));
    pushsync::test::write_file(dir / "junk.p8", "hello");
    try {
        TokenKeys bad({TokenKeySpec{"K", "T", (dir / "junk.p8").string(), {}, ""}});
        FAIL() << "junk key accepted";
    } catch (const OptionsError& e) {
        EXPECT_NE(std::string(e.what()).find("junk.p8"), std::string::npos);
    }
}

TEST(Validation, LowercaseUuidOnly) {
    EXPECT_TRUE(is_lowercase_uuid("123e4567-e89b-12d3-a456-426614174000"));
    EXPECT_FALSE(is_lowercase_uuid("123E4567-e89b-12d3-a456-426614174000"));
    EXPECT_FALSE(is_lowercase_uuid("123e4567e89b12d3a456426614174000"));
}

TEST(Validation, TopicSuffixPerPushType) {
    Options opt;
    TopicPolicy policy;
    auto check = [&](const std::string& type, const std::string& topic) {
        Request r;
        r.method = "POST";
        r.path = "/3/device/" + std::string(64, 'a');
        r.apns_topic = topic;
        r.apns_push_type = type;
        Checked c;
        auto rej = check_headers(r, policy, opt, c);
        return rej ? rej->reason : "ok:" + c.bundle;
    };
    EXPECT_EQ(check("alert", "com.a"), "ok:com.a");
    EXPECT_EQ(check("voip", "com.a.voip"), "ok:com.a");
    EXPECT_EQ(check("voip", "com.a"), "BadTopic");
    EXPECT_EQ(check("complication", "com.a.complication"), "ok:com.a");
    EXPECT_EQ(check("fileprovider", "com.a.pushkit.fileprovider"), "ok:com.a");
    EXPECT_EQ(check("location", "com.a.location-query"), "ok:com.a");
    EXPECT_EQ(check("liveactivity", "com.a.push-type.liveactivity"), "ok:com.a");
    EXPECT_EQ(check("pushtotalk", "com.a.voip-ptt"), "ok:com.a");
    EXPECT_EQ(check("widgets", "com.a.push-type.widgets"), "ok:com.a");
    EXPECT_EQ(check("controls", "com.a.push-type.controls"), "ok:com.a");
    EXPECT_EQ(check("controls", ".push-type.controls"), "BadTopic");
    EXPECT_EQ(check("bogus", "com.a"), "InvalidPushType");
}

}  // namespace
}  // namespace apns_sim

namespace apns_sim {
namespace {

TEST(RequestLogLine, IsValidJsonWithEscapesAndReplacedBadUtf8) {
    RequestLog log("", 10);
    LogEntry e;
    e.time_ms = 5;
    e.connection = 2;
    e.stream = 3;
    e.method = "POST";
    e.token = "ab";
    e.apns_headers = {{"apns-topic", "com.a"}, {"apns-id", "x\"y"}};
    e.payload = std::string("{\"a\":\"\\\n\t\x01") + "\xc3\xa9" + "\xff" + "}";
    e.status = 410;
    e.reason = "Unregistered";
    log.add(e);
    auto j = nlohmann::json::parse(log.since(0));
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0]["seq"], 1);
    EXPECT_EQ(j[0]["headers"]["apns-id"], "x\"y");
    EXPECT_EQ(j[0]["payload"], std::string("{\"a\":\"\\\n\t\x01") + "\xc3\xa9" + "\xef\xbf\xbd" + "}");
    EXPECT_EQ(j[0]["status"], 410);
    EXPECT_EQ(j[0]["connection"], 2);
    EXPECT_EQ(log.since(1), "[]\n");
}

}  // namespace
}  // namespace apns_sim
