// SPDX-License-Identifier: BSD-2-Clause
// The token endpoint's answer: a token, refused credentials, or a failure with its reason,
// whatever the endpoint sends.
#include <gtest/gtest.h>

#include <string>

#include "sender/fcm/auth/token_answer.hpp"

namespace pushsync::sender::fcm {
namespace {

using Kind = TokenAnswer::Kind;

TEST(FcmTokenAnswer, GooglesGrant) {
    const auto answer =
        parse_token_answer(200, R"({"access_token":"ya29.c.b0Aaek-_~+/x==","expires_in":3599,"token_type":"Bearer"})");
    EXPECT_EQ(answer.kind, Kind::token);
    EXPECT_EQ(answer.access_token, "ya29.c.b0Aaek-_~+/x==");
    EXPECT_EQ(answer.expires_in_s, 3599);
    EXPECT_EQ(answer.status, 200);
    EXPECT_EQ(parse_token_answer(200, R"({"access_token":"t","expires_in":5,"token_type":"bearer"})").kind, Kind::token);
}

TEST(FcmTokenAnswer, RefusedAssertionIsACredentialProblem) {
    const auto answer = parse_token_answer(400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})");
    EXPECT_EQ(answer.kind, Kind::credentials);
    EXPECT_EQ(answer.status, 400);
    EXPECT_EQ(answer.reason, "invalid_grant: Invalid JWT Signature.");
    const auto unauthorized = parse_token_answer(401, R"({"error":"invalid_client"})");
    EXPECT_EQ(unauthorized.kind, Kind::credentials);
    EXPECT_EQ(unauthorized.reason, "invalid_client");
    // The endpoint's words are escaped: they cannot end a log line.
    EXPECT_EQ(parse_token_answer(400, "{\"error\":\"x\\ny\",\"error_description\":\"\\u001b[31m\"}").reason,
              "x\\x0ay: \\x1b[31m");
}

// Each broken grant and why.
TEST(FcmTokenAnswer, BrokenGrantsAreFailuresWithAReason) {
    const std::pair<const char*, const char*> rows[] = {
        {R"({"expires_in":3599,"token_type":"Bearer"})", "access_token: missing"},
        {R"({"access_token":7,"expires_in":3599,"token_type":"Bearer"})", "access_token: not a string (number)"},
        {R"({"access_token":"","expires_in":3599,"token_type":"Bearer"})", "access_token: 0 bytes, not 1 to 8192"},
        {R"({"access_token":"a b","expires_in":3599,"token_type":"Bearer"})",
         "access_token: characters an authorization header cannot carry"},
        {R"({"access_token":"a\r\nx-evil: 1","expires_in":3599,"token_type":"Bearer"})",
         "access_token: characters an authorization header cannot carry"},
        {R"({"access_token":"a=b","expires_in":3599,"token_type":"Bearer"})",
         "access_token: characters an authorization header cannot carry"},
        {R"({"access_token":"t","expires_in":3599})", "token_type: missing or not a string"},
        {R"({"access_token":"t","expires_in":3599,"token_type":"MAC"})", "token_type: \"MAC\", not \"Bearer\""},
        {R"({"access_token":"t","token_type":"Bearer"})", "expires_in: missing"},
        {R"({"access_token":"t","expires_in":"3599","token_type":"Bearer"})", "expires_in: not a whole number (string)"},
        {R"({"access_token":"t","expires_in":3599.5,"token_type":"Bearer"})", "expires_in: not a whole number (number)"},
        {R"({"access_token":"t","expires_in":0,"token_type":"Bearer"})", "expires_in: 0, not 1 to 86400"},
        {R"({"access_token":"t","expires_in":-5,"token_type":"Bearer"})", "expires_in: -5, not 1 to 86400"},
        {R"({"access_token":"t","expires_in":86401,"token_type":"Bearer"})", "expires_in: 86401, not 1 to 86400"},
        {R"({"access_token":"t","expires_in":18446744073709551615,"token_type":"Bearer"})",
         "expires_in: 18446744073709551615, not 1 to 86400"},
        {"not json", "HTTP 200: answer is not JSON"},
        {"[1]", "HTTP 200: answer is not a JSON object"},
        {"", "HTTP 200: answer is not JSON"},
    };
    for (const auto& [body, reason] : rows) {
        const auto answer = parse_token_answer(200, body);
        EXPECT_EQ(answer.kind, Kind::failed) << body;
        EXPECT_EQ(answer.reason, reason) << body;
        EXPECT_TRUE(answer.access_token.empty()) << body;
    }
    EXPECT_EQ(parse_token_answer(200, R"({"access_token":")" + std::string(8193, 'a') +
                                          R"(","expires_in":1,"token_type":"Bearer"})")
                  .reason,
              "access_token: 8193 bytes, not 1 to 8192");
}

TEST(FcmTokenAnswer, OtherStatusesAndNoAnswerAreFailures) {
    EXPECT_EQ(parse_token_answer(0, "").reason, "no answer");
    EXPECT_EQ(parse_token_answer(503, R"({"error":"unavailable"})").reason, "HTTP 503");
    EXPECT_EQ(parse_token_answer(503, "").kind, Kind::failed);
    EXPECT_EQ(parse_token_answer(403, R"({"error":"access_denied"})").kind, Kind::failed);
    // A 400 that is no OAuth error is not believed to speak of the credentials.
    EXPECT_EQ(parse_token_answer(400, "<html>Bad Request</html>").reason, "HTTP 400: answer is not JSON");
    EXPECT_EQ(parse_token_answer(401, R"({"error":5})").reason, "HTTP 401: answer has no OAuth \"error\"");
    EXPECT_EQ(parse_token_answer(200, std::string(max_token_answer_bytes + 1, ' ')).reason,
              "HTTP 200: answer larger than 65536 bytes");
}

TEST(FcmTokenAnswer, HostileBytesNeverThrow) {
    const std::string nested(20000, '[');
    EXPECT_EQ(parse_token_answer(200, nested).kind, Kind::failed);
    EXPECT_EQ(parse_token_answer(200, std::string("{\"access_token\":\"\xff\"}")).kind, Kind::failed);
    EXPECT_EQ(parse_token_answer(400, std::string("\0\0\0", 3)).kind, Kind::failed);
}

}  // namespace
}  // namespace pushsync::sender::fcm
