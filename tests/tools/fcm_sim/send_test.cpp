// SPDX-License-Identifier: BSD-2-Clause
// messages:send: the bearer token, pushsync's exact message, the token marks, and the log.
#include <gtest/gtest.h>

#include "tests/tools/fcm_sim/fcm_test_support.hpp"

namespace pushsync::test {
namespace {

class Send : public SharedFcmSim {
protected:
    void SetUp() override {
        SharedFcmSim::SetUp();
        client = std::make_unique<H2TestClient>(client_config(sim()));
        bearer = access_token(*client, sim(), account());
    }
    H2Response push(const std::string& body, const std::string& project = "pushsync-test") {
        return send(*client, project, bearer, body);
    }
    static nlohmann::json error(const H2Response& r) {
        auto j = nlohmann::json::parse(r.body, nullptr, false);
        return j.is_object() && j.contains("error") ? j["error"] : nlohmann::json();
    }
    void expect_invalid_argument(const std::string& body, const std::string& text) {
        auto r = push(body);
        EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
        EXPECT_EQ(error_code(r), "INVALID_ARGUMENT") << r.body;
        EXPECT_EQ(error(r).value("status", ""), "INVALID_ARGUMENT") << r.body;
        EXPECT_NE(error(r).value("message", "").find(text), std::string::npos) << body << " -> " << r.body;
    }
    std::unique_ptr<H2TestClient> client;
    std::string bearer;
};

TEST_F(Send, PushsyncMessageIsAccepted) {
    auto r = push(pushsync_message());
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = nlohmann::json::parse(r.body);
    const std::string name = j.value("name", "");
    EXPECT_EQ(name.rfind("projects/pushsync-test/messages/0:", 0), 0u) << name;
    EXPECT_EQ(push(pushsync_message(fcm_token, "t-2", "normal", "0.5s")).status, 200);
    EXPECT_EQ(push(pushsync_message(fcm_token, "t-3", "HIGH", "1.123456789s")).status, 200) << "enum names too";
    EXPECT_EQ(sim().counters().value("send_bodies_not_compact", 0), 0);
}

TEST_F(Send, MissingBearerIsUnauthenticatedCredentialsMissing) {
    auto r = send(*client, "pushsync-test", "", pushsync_message());
    EXPECT_EQ(r.status, 401);
    auto e = error(r);
    EXPECT_EQ(e["code"], 401);
    EXPECT_EQ(e["status"], "UNAUTHENTICATED");
    EXPECT_EQ(e["details"][0]["reason"], "CREDENTIALS_MISSING") << r.body;
}

TEST_F(Send, UnknownBearerIsUnauthenticated) {
    auto r = send(*client, "pushsync-test", "ya29.made-up", pushsync_message());
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(error(r)["status"], "UNAUTHENTICATED");
}

TEST_F(Send, ExpiredBearerIsUnauthenticatedAccessTokenExpired) {
    sim().set_clock_offset(3599);
    auto r = push(pushsync_message());
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(error(r)["details"][0]["reason"], "ACCESS_TOKEN_EXPIRED") << r.body;
    sim().set_clock_offset(3598);
    EXPECT_EQ(push(pushsync_message()).status, 200) << "valid up to expires_in";
}

TEST_F(Send, ExpireAccessTokensForcesARefresh) {
    sim().expire_access_tokens();
    EXPECT_EQ(push(pushsync_message()).status, 401);
    bearer = access_token(*client, sim(), account());
    EXPECT_EQ(push(pushsync_message()).status, 200);
}

TEST_F(Send, BearerOfAnotherProjectIsPermissionDenied) {
    auto r = push(pushsync_message(), "other-project");
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(error(r)["status"], "PERMISSION_DENIED");
    EXPECT_EQ(error_code(r), "") << "no FcmError: not SENDER_ID_MISMATCH, nothing to prune";
}

TEST_F(Send, BodyShapeRefusals) {
    expect_invalid_argument("{", "Invalid JSON payload");
    expect_invalid_argument(R"({"message":{"data":{"tail":"t"},"android":{"priority":"high","ttl":"1s","collapse_key":"pushsync"}}})",
                            "Recipient of the message is not set.");
    expect_invalid_argument(R"({"message":{"token":"a","data":{"tail":1},"android":{"priority":"high","ttl":"1s","collapse_key":"pushsync"}}})",
                            "Invalid value at 'message.data[0].value' (TYPE_STRING)");
    expect_invalid_argument(pushsync_message(fcm_token, "t", "urgent"), "message.android.priority");
    for (const char* ttl : {"60", "1.5", "s", "-1s", "1.1234567890s", "1.s", "1m"}) {
        expect_invalid_argument(pushsync_message(fcm_token, "t", "high", ttl), "message.android.ttl");
    }
    expect_invalid_argument(R"({"message":{"token":"a","bogus":1}})", "Unknown name \"bogus\" at 'message'");
    expect_invalid_argument(R"({"message":{"token":"a","notification":{"title":"x"},"data":{"tail":"t"}}})",
                            "fcm-sim: message.notification is valid FCM but not in pushsync's message");
    expect_invalid_argument(R"({"message":{"token":"a","data":{"tail":"t","extra":"x"},"android":{"priority":"high","ttl":"1s","collapse_key":"pushsync"}}})",
                            "message.data.extra");
    expect_invalid_argument(R"({"message":{"token":"a","data":{"tail":"t"},"android":{"priority":"high","ttl":"1s","collapse_key":"other"}}})",
                            "collapse_key");
    expect_invalid_argument(R"({"message":{"token":"a","data":{"tail":"t"},"android":{"priority":"high","ttl":"1s"}}})",
                            "collapse_key is missing");
}

TEST_F(Send, InvalidArgumentNamesTheFieldInBadRequest) {
    auto r = push(pushsync_message(fcm_token, "t", "high", "60"));
    auto details = error(r)["details"];
    ASSERT_EQ(details.size(), 2u) << r.body;
    EXPECT_EQ(details[1]["@type"], "type.googleapis.com/google.rpc.BadRequest");
    EXPECT_EQ(details[1]["fieldViolations"][0]["field"], "message.android.ttl");
}

TEST_F(Send, ContentTypeMustBeJson) {
    auto r = client->request(send_path("pushsync-test"), {{"content-type", "text/plain"}, {"authorization", "Bearer " + bearer}},
                             pushsync_message());
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(error_code(r), "INVALID_ARGUMENT");
}

TEST_F(Send, NotACompactBodyIsCountedNotRefused) {
    EXPECT_EQ(push(R"({"message": {"token": "a", "data": {"tail": "t"}, "android": {"priority": "high", "ttl": "1s", "collapse_key": "pushsync"}}})")
                  .status,
              200);
    EXPECT_EQ(sim().counters()["send_bodies_not_compact"], 1);
}

TEST_F(Send, ErrorBodyHasGooglesShapeAndOrder) {
    sim().mark_unregistered_now(fcm_token);
    auto r = push(pushsync_message());
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, R"({"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}})");
}

TEST_F(Send, UnregisteredFromATimestamp) {
    const std::int64_t later_ms = (sim().now_s() + 60) * 1000;
    sim().mark_unregistered(fcm_token, later_ms);
    EXPECT_EQ(push(pushsync_message()).status, 200) << "before the timestamp the token still works";
    sim().set_clock_offset(61);
    bearer = access_token(*client, sim(), account());
    auto r = push(pushsync_message());
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(error_code(r), "UNREGISTERED");
}

TEST_F(Send, InvalidAndSenderIdMismatchMarks) {
    sim().mark_invalid("tok-invalid");
    sim().mark_sender_id_mismatch("tok-other-sender");
    auto r = push(pushsync_message("tok-invalid"));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(error_code(r), "INVALID_ARGUMENT");
    EXPECT_EQ(error(r)["message"], "The registration token is not a valid FCM registration token");
    r = push(pushsync_message("tok-other-sender"));
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(error_code(r), "SENDER_ID_MISMATCH");
    sim().forget_token("tok-invalid");
    EXPECT_EQ(push(pushsync_message("tok-invalid")).status, 200);
}

TEST_F(Send, MalformedRegistrationTokenIsInvalid) {
    auto r = push(pushsync_message("not a token!"));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(error(r)["message"], "The registration token is not a valid FCM registration token");
}

TEST_F(Send, OtherPathsAndMethodsAreNotFound) {
    EXPECT_EQ(client->request("/v1/projects/pushsync-test/messages:batchSend", {{"authorization", "Bearer " + bearer}}, "{}").status,
              404);
    EXPECT_EQ(client->request(send_path("pushsync-test"), {{"authorization", "Bearer " + bearer}}, "", "GET").status, 404);
}

TEST_F(Send, SendsAreLoggedWithTheirFields) {
    push(pushsync_message(fcm_token, "tail-9", "normal", "120s"));
    sim().mark_invalid("bad-one");
    push(pushsync_message("bad-one"));
    auto log = sim().request_log();
    ASSERT_EQ(log.size(), 3u);  // the token request, then two sends
    const auto& ok = log[1];
    EXPECT_EQ(ok["endpoint"], "send");
    EXPECT_EQ(ok["path"], send_path("pushsync-test"));
    EXPECT_EQ(ok["project"], "pushsync-test");
    EXPECT_EQ(ok["token"], fcm_token);
    EXPECT_EQ(ok["tail"], "tail-9");
    EXPECT_EQ(ok["priority"], "normal");
    EXPECT_EQ(ok["ttl"], "120s");
    EXPECT_EQ(ok["collapse_key"], "pushsync");
    EXPECT_EQ(ok["body"], pushsync_message(fcm_token, "tail-9", "normal", "120s"));
    EXPECT_EQ(ok["status"], 200);
    EXPECT_GT(ok["received_us"].get<std::int64_t>(), log[0]["received_us"].get<std::int64_t>());
    EXPECT_EQ(log[2]["status"], 400);
    EXPECT_EQ(log[2]["errorCode"], "INVALID_ARGUMENT");
    // the file has the same lines
    ASSERT_TRUE(wait_until([&] { return read_file(sim().log_file()).find("tail-9") != std::string::npos; }));
}

TEST(SendLifetime, ShortTokenLifetimeExpiresInRealTime) {
    FcmSimOptions o;
    o.token_lifetime_s = 1;
    FcmSimFixture sim(o);
    H2TestClient client(client_config(sim));
    auto bearer = access_token(client, sim, sim.service_account());
    EXPECT_EQ(send(client, "pushsync-test", bearer, pushsync_message()).status, 200);
    ASSERT_TRUE(wait_until([&] { return send(client, "pushsync-test", bearer, pushsync_message()).status == 401; },
                           std::chrono::seconds(5), std::chrono::milliseconds(100)));
}

}  // namespace
}  // namespace pushsync::test
