// SPDX-License-Identifier: BSD-2-Clause
// Every rejection reason of docs/apns.md §4 that a request (not a fault) can cause, with its status,
// in the order pushy's mock validates. Faults give the rest (faults_test.cpp); provider-token
// reasons are in auth_test.cpp.
#include <gtest/gtest.h>

#include "tests/tools/apns_sim/sim_test_support.hpp"

namespace pushsync::test {
namespace {

class Rejections : public SharedSim {
protected:
    // One push on a fresh connection with the standard headers, `changes` applied (empty value: drop it).
    H2Response push(const std::vector<std::pair<std::string, std::string>>& changes, const std::string& body,
                    const std::string& path = "/3/device/" + device_token, const std::string& method = "POST") {
        Headers headers = background_headers(jwt_for(sim()));
        for (const auto& [name, value] : changes) {
            auto it = std::find_if(headers.begin(), headers.end(), [&](const auto& h) { return h.first == name; });
            if (it != headers.end()) headers.erase(it);
            if (!value.empty()) headers.emplace_back(name, value);
        }
        H2TestClient client(client_config(sim()));
        return client.request(path, headers, body, method);
    }
    static std::string reason(const std::string& r) { return R"({"reason":")" + r + R"("})"; }
};

#define EXPECT_REJECTED(response, status_code, why)                       \
    do {                                                                   \
        auto r_ = (response);                                              \
        EXPECT_EQ(r_.status, status_code) << r_.body;                      \
        EXPECT_EQ(r_.body, reason(why));                                   \
        EXPECT_EQ(r_.header("content-type"), "application/json");          \
        EXPECT_EQ(r_.header("apns-id").size(), 36u);                       \
    } while (0)

TEST_F(Rejections, BadMessageId) {
    EXPECT_REJECTED(push({{"apns-id", "not-a-uuid"}}, background_payload), 400, "BadMessageId");
    EXPECT_REJECTED(push({{"apns-id", "123E4567-E89B-12D3-A456-426614174000"}}, background_payload), 400, "BadMessageId");
}

TEST_F(Rejections, MethodNotAllowed) {
    EXPECT_REJECTED(push({}, "", "/3/device/" + device_token, "GET"), 405, "MethodNotAllowed");
}

TEST_F(Rejections, MissingTopic) { EXPECT_REJECTED(push({{"apns-topic", ""}}, background_payload), 400, "MissingTopic"); }

TEST_F(Rejections, BadCollapseId) {
    EXPECT_REJECTED(push({{"apns-collapse-id", std::string(65, 'c')}}, background_payload), 400, "BadCollapseId");
    EXPECT_EQ(push({{"apns-collapse-id", std::string(64, 'c')}}, background_payload).status, 200);
}

TEST_F(Rejections, BadPriority) { EXPECT_REJECTED(push({{"apns-priority", "7"}}, background_payload), 400, "BadPriority"); }

TEST_F(Rejections, InvalidPushType) {
    EXPECT_REJECTED(push({{"apns-push-type", "silent"}}, background_payload), 400, "InvalidPushType");
}

TEST_F(Rejections, BadExpirationDate) {
    EXPECT_REJECTED(push({{"apns-expiration", "tomorrow"}}, background_payload), 400, "BadExpirationDate");
}

TEST_F(Rejections, BadPath) { EXPECT_REJECTED(push({}, background_payload, "/3/devices/" + device_token), 404, "BadPath"); }

TEST_F(Rejections, MissingDeviceToken) { EXPECT_REJECTED(push({}, background_payload, "/3/device/"), 400, "MissingDeviceToken"); }

TEST_F(Rejections, BadDeviceTokenWhenMalformed) {
    EXPECT_REJECTED(push({}, background_payload, "/3/device/xyz" + device_token), 400, "BadDeviceToken");
    EXPECT_REJECTED(push({}, background_payload, "/3/device/abc"), 400, "BadDeviceToken");
}

TEST_F(Rejections, BadDeviceTokenWhenMarkedOrOfTheOtherEnvironment) {
    sim().mark_bad(token_n(1));
    EXPECT_REJECTED(push({}, background_payload, "/3/device/" + token_n(1)), 400, "BadDeviceToken");
    sim().control_json("POST", "/tokens/" + token_n(2), {{"state", "valid"}, {"environment", "sandbox"}});
    EXPECT_REJECTED(push({}, background_payload, "/3/device/" + token_n(2)), 400, "BadDeviceToken");
}

TEST_F(Rejections, BadTopicWhenThePushTypeSuffixIsMissing) {
    EXPECT_REJECTED(push({{"apns-push-type", "voip"}}, background_payload), 400, "BadTopic");
    EXPECT_EQ(push({{"apns-push-type", "voip"}, {"apns-topic", topic + ".voip"}}, background_payload).status, 200);
}

TEST_F(Rejections, DuplicateHeaders) {
    Headers headers = background_headers(jwt_for(sim()));
    headers.emplace_back("apns-topic", topic);
    H2TestClient client(client_config(sim()));
    auto r = client.request("/3/device/" + device_token, headers, background_payload);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, reason("DuplicateHeaders"));
}

TEST_F(Rejections, UnregisteredAnswers410WithMillisecondTimestamp) {
    const std::int64_t ts = 1764147600123;
    sim().mark_unregistered(device_token, ts);
    auto r = push({}, background_payload);
    EXPECT_EQ(r.status, 410);
    EXPECT_EQ(r.body, R"({"reason":"Unregistered","timestamp":1764147600123})");
    // curl sees the same
    auto c = curl(sim(), "/3/device/" + device_token, {"authorization: bearer " + jwt_for(sim()), "apns-topic: " + topic},
                  background_payload);
    EXPECT_EQ(c.status, 410);
    EXPECT_EQ(nlohmann::json::parse(c.body)["timestamp"], ts);
}

TEST_F(Rejections, ExpiredToken) {
    sim().mark_expired(device_token);
    EXPECT_REJECTED(push({}, background_payload), 410, "ExpiredToken");
}

TEST_F(Rejections, DeviceTokenNotForTopic) {
    sim().mark_topic(device_token, "com.example.other");
    EXPECT_REJECTED(push({}, background_payload), 400, "DeviceTokenNotForTopic");
    sim().mark_topic(device_token, topic);
    EXPECT_EQ(push({}, background_payload).status, 200);
}

TEST_F(Rejections, TopicDisallowedForTheKey) {
    EXPECT_REJECTED(push({{"apns-topic", "com.example.notmine"}}, background_payload), 400, "TopicDisallowed");
}

TEST_F(Rejections, PayloadEmpty) { EXPECT_REJECTED(push({}, ""), 400, "PayloadEmpty"); }

TEST_F(Rejections, PayloadTooLargeAt4097BytesAndVoipAt5121) {
    std::string filler = R"({"aps":{"content-available":1},"x":")";
    auto sized = [&](std::size_t n) { return filler + std::string(n - filler.size() - 2, 'x') + "\"}"; };
    EXPECT_EQ(push({}, sized(4096)).status, 200);
    EXPECT_REJECTED(push({}, sized(4097)), 413, "PayloadTooLarge");
    Headers voip = {{"apns-push-type", "voip"}, {"apns-topic", topic + ".voip"}};
    std::vector<std::pair<std::string, std::string>> changes(voip.begin(), voip.end());
    EXPECT_EQ(push(changes, sized(5120)).status, 200);
    EXPECT_REJECTED(push(changes, sized(5121)), 413, "PayloadTooLarge");
}

TEST_F(Rejections, MissingProviderTokenWithCurl) {
    auto r = curl(sim(), "/3/device/" + device_token, {"apns-topic: " + topic}, background_payload);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.body, reason("MissingProviderToken"));
}

TEST_F(Rejections, OrderFollowsPushyMessageIdFirstThenMethodThenTopic) {
    // Several faults at once: the first check in the order answers.
    EXPECT_REJECTED(push({{"apns-id", "x"}, {"apns-priority", "7"}, {"apns-topic", ""}}, ""), 400, "BadMessageId");
    EXPECT_REJECTED(push({{"apns-priority", "7"}, {"apns-topic", ""}}, "", "/3/device/" + device_token, "GET"), 405,
                    "MethodNotAllowed");
    EXPECT_REJECTED(push({{"apns-priority", "7"}, {"apns-topic", ""}}, ""), 400, "MissingTopic");
    EXPECT_REJECTED(push({{"apns-priority", "7"}, {"apns-push-type", "nope"}}, ""), 400, "BadPriority");
    sim().mark_unregistered(device_token, 5);
    EXPECT_EQ(push({{"authorization", ""}}, "").status, 410);  // registry before auth, like pushy
    sim().forget_token(device_token);
    EXPECT_REJECTED(push({{"authorization", ""}}, ""), 403, "MissingProviderToken");  // auth before payload
}

TEST_F(Rejections, EveryRejectionIsLoggedAndCounted) {
    push({{"apns-priority", "7"}}, background_payload);
    auto log = sim().request_log();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0]["status"], 400);
    EXPECT_EQ(log[0]["reason"], "BadPriority");
    EXPECT_EQ(sim().counters()["reason"]["BadPriority"], 1);
}

TEST(RejectionsStrictBackground, BackgroundWithPriority10IsBadPriority) {
    ApnsSimFixture sim({.extra_args = {"--strict-background"}});
    H2TestClient client(client_config(sim));
    Headers headers = background_headers(jwt_for(sim));
    headers[3] = {"apns-priority", "10"};
    auto r = client.request("/3/device/" + device_token, headers, background_payload);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, R"({"reason":"BadPriority"})");
}

TEST(RejectionsRequireRegistered, UnknownTokensAreBadDeviceToken) {
    ApnsSimFixture sim({.extra_args = {"--require-registered", "--token-hex-length", "64"}});
    H2TestClient client(client_config(sim));
    auto jwt = jwt_for(sim);
    auto r = client.request("/3/device/" + device_token, background_headers(jwt), background_payload);
    EXPECT_EQ(r.body, R"({"reason":"BadDeviceToken"})");
    sim.control_json("POST", "/tokens/" + device_token, {{"state", "valid"}});
    EXPECT_EQ(client.request("/3/device/" + device_token, background_headers(jwt), background_payload).status, 200);
    // 32 hex digits are well-formed by default, not with --token-hex-length 64
    EXPECT_EQ(client.request("/3/device/" + std::string(32, 'a'), background_headers(jwt), background_payload).body,
              R"({"reason":"BadDeviceToken"})");
}

}  // namespace
}  // namespace pushsync::test
