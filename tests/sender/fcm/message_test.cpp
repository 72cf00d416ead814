// SPDX-License-Identifier: BSD-2-Clause
// The send request: docs/api.md's body byte for byte, and the path.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sender/fcm/message.hpp"

namespace pushsync::sender::fcm {
namespace {

TEST(FcmMessage, BodyIsTheContractsByteForByte) {
    EXPECT_EQ(message_body("fcm-token:APA91b", "t-42", AndroidPriority::high, 3600),
              R"({"message":{"token":"fcm-token:APA91b","data":{"tail":"t-42"},)"
              R"("android":{"priority":"high","ttl":"3600s","collapse_key":"pushsync"}}})");
    EXPECT_EQ(message_body("x", "", AndroidPriority::normal, 0),
              R"({"message":{"token":"x","data":{"tail":""},"android":{"priority":"normal","ttl":"0s","collapse_key":"pushsync"}}})");
}

TEST(FcmMessage, TtlIsClampedToWhatFcmAccepts) {
    auto ttl = [](std::int64_t s) {
        return nlohmann::json::parse(message_body("t", "x", AndroidPriority::high, s))["message"]["android"]["ttl"];
    };
    EXPECT_EQ(ttl(-1), "0s");
    EXPECT_EQ(ttl(2'419'200), "2419200s");
    EXPECT_EQ(ttl(2'419'201), "2419200s");
}

TEST(FcmMessage, TokenAndTailAreEscapedNeverPasted) {
    const std::string body = message_body("a\"b", "q\\\"\n\x01}", AndroidPriority::high, 1);
    EXPECT_EQ(body, R"({"message":{"token":"a\"b","data":{"tail":"q\\\"\n\u0001}"},)"
                    R"("android":{"priority":"high","ttl":"1s","collapse_key":"pushsync"}}})");
    const auto parsed = nlohmann::json::parse(body);
    EXPECT_EQ(parsed["message"]["data"]["tail"], "q\\\"\n\x01}");
    EXPECT_EQ(parsed["message"].size(), 3u);
    // Bytes that are not UTF-8 become U+FFFD rather than invalid JSON.
    const auto odd = nlohmann::json::parse(message_body("t", "\xff", AndroidPriority::high, 1));
    EXPECT_EQ(odd["message"]["data"]["tail"], "\xef\xbf\xbd");
}

// The plain-text path (every token and tail the API lets through) writes what a serialiser of the
// same members writes, for every character the API allows in either.
TEST(FcmMessage, PlainTextGivesTheSerialisersBytes) {
    const std::string token = "ABCxyz019_-:" + std::string(150, 'k');
    const std::string tail = "AZaz09._~:+/=-";
    nlohmann::ordered_json message;
    message["token"] = token;
    message["data"]["tail"] = tail;
    message["android"]["priority"] = "normal";
    message["android"]["ttl"] = "600s";
    message["android"]["collapse_key"] = "pushsync";
    nlohmann::ordered_json body;
    body["message"] = message;
    EXPECT_EQ(message_body(token, tail, AndroidPriority::normal, 600), body.dump());
}

TEST(FcmMessage, SendPath) {
    EXPECT_EQ(send_path("pushsync-dev"), "/v1/projects/pushsync-dev/messages:send");
    EXPECT_EQ(send_path("example.com:p"), "/v1/projects/example.com:p/messages:send");
}

}  // namespace
}  // namespace pushsync::sender::fcm
