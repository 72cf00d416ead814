// SPDX-License-Identifier: BSD-2-Clause
// Each fault kind, scripted through the control API and observed by a client.
#include <gtest/gtest.h>

#include <chrono>

#include "tests/tools/fcm_sim/fcm_test_support.hpp"

namespace pushsync::test {
namespace {

class Faults : public SharedFcmSim {
protected:
    void SetUp() override {
        SharedFcmSim::SetUp();
        client = std::make_unique<H2TestClient>(client_config(sim()));
        bearer = access_token(*client, sim(), account());
    }
    H2Response push(const std::string& token = fcm_token) {
        return send(*client, "pushsync-test", bearer, pushsync_message(token));
    }
    std::unique_ptr<H2TestClient> client;
    std::string bearer;
};

TEST_F(Faults, QuotaAnswers429WithRetryAfterForTheNextN) {
    sim().add_fault({{"kind", "quota"}, {"count", 2}, {"retry_after_s", 7}});
    for (int i = 0; i < 2; ++i) {
        auto r = push();
        EXPECT_EQ(r.status, 429);
        EXPECT_EQ(error_code(r), "QUOTA_EXCEEDED");
        EXPECT_EQ(r.header("retry-after"), "7");
    }
    EXPECT_EQ(push().status, 200) << "count 2 is used up";
    EXPECT_EQ(sim().counters()["faults_quota"], 2);
}

TEST_F(Faults, UnavailableAndInternal) {
    sim().add_fault({{"kind", "unavailable"}});
    auto r = push();
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(error_code(r), "UNAVAILABLE");
    EXPECT_EQ(r.header("retry-after"), "30") << "the default";
    sim().add_fault({{"kind", "internal"}});
    r = push();
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(error_code(r), "INTERNAL");
    EXPECT_EQ(r.header("retry-after"), "");
}

TEST_F(Faults, FaultForOneTokenLeavesOthersAlone) {
    sim().add_fault({{"kind", "internal"}, {"count", -1}, {"token", "tok-7"}});
    EXPECT_EQ(push("tok-1").status, 200);
    EXPECT_EQ(push("tok-7").status, 500);
    EXPECT_EQ(push("tok-7").status, 500);
    sim().clear_faults();
    EXPECT_EQ(push("tok-7").status, 200);
}

TEST_F(Faults, RateFaultHitsAboutThatShare) {
    sim().add_fault({{"kind", "unavailable"}, {"count", -1}, {"rate", 0.5}});
    int failed = 0;
    for (int i = 0; i < 200; ++i) failed += push().status == 503;
    EXPECT_GT(failed, 50);
    EXPECT_LT(failed, 150);
}

TEST_F(Faults, RefusalsComeBeforeFaults) {
    sim().add_fault({{"kind", "quota"}, {"count", -1}});
    sim().mark_invalid("tok-invalid");
    EXPECT_EQ(push("tok-invalid").status, 400);
    EXPECT_EQ(send(*client, "pushsync-test", "", pushsync_message()).status, 401);
}

TEST_F(Faults, TokenEndpointDownAnswers503) {
    sim().add_fault({{"kind", "token_down"}, {"count", 1}});
    auto r = post_token(*client, token_form(sign_assertion(good_assertion(sim(), account()), account().private_key_file)));
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(nlohmann::json::parse(r.body).value("error", ""), "temporarily_unavailable");
    EXPECT_EQ(push().status, 200) << "sends are not affected";
    EXPECT_FALSE(access_token(*client, sim(), account()).empty()) << "count 1 is used up";
}

TEST_F(Faults, SendFaultsLeaveTheTokenEndpointAlone) {
    sim().add_fault({{"kind", "unavailable"}, {"count", -1}});
    EXPECT_FALSE(access_token(*client, sim(), account()).empty());
    EXPECT_EQ(sim().control("POST", "/faults", R"({"kind":"quota","on":"token"})").status, 400);
    EXPECT_EQ(sim().control("POST", "/faults", R"({"kind":"bogus"})").status, 400);
}

TEST_F(Faults, DelayAnswersLater) {
    sim().add_fault({{"kind", "delay"}, {"delay_ms", 300}});
    const auto start = std::chrono::steady_clock::now();
    auto r = push();
    EXPECT_EQ(r.status, 200);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(280));
}

TEST_F(Faults, DelayOnTheTokenEndpoint) {
    sim().add_fault({{"kind", "delay"}, {"on", "token"}, {"delay_ms", 300}});
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(access_token(*client, sim(), account()).empty());
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(280));
}

TEST_F(Faults, SilenceNeverAnswers) {
    sim().add_fault({{"kind", "silence"}});
    auto id = client->submit(send_path("pushsync-test"),
                             {{"content-type", "application/json"}, {"authorization", "Bearer " + bearer}}, pushsync_message());
    EXPECT_FALSE(client->wait_closed(id, std::chrono::milliseconds(300)));
    EXPECT_EQ(push().status, 200) << "the connection goes on";
    auto log = sim().request_log();
    EXPECT_EQ(log[1]["fault"], "silence");
    EXPECT_EQ(log[1]["status"], 0);
}

TEST_F(Faults, GoawayLeavesTheTriggeringRequestUnprocessed) {
    sim().add_fault({{"kind", "goaway"}, {"debug", "shutting down"}});
    auto id = client->submit(send_path("pushsync-test"),
                             {{"content-type", "application/json"}, {"authorization", "Bearer " + bearer}}, pushsync_message());
    ASSERT_TRUE(client->run_until([&] { return client->connection_closed(); }));
    ASSERT_TRUE(client->goaway().received);
    EXPECT_EQ(client->goaway().last_stream_id, id - 2);
    EXPECT_EQ(client->goaway().debug, "shutting down");
    EXPECT_EQ(client->response(id).status, 0) << "above last-stream-id: never processed, to be resent";
}

TEST_F(Faults, ControlGoawayReachesEveryConnection) {
    H2TestClient second(client_config(sim()));
    EXPECT_FALSE(access_token(second, sim(), account()).empty());
    sim().goaway_all({{"error_code", 0}});
    ASSERT_TRUE(client->run_until([&] { return client->goaway().received; }));
    ASSERT_TRUE(second.run_until([&] { return second.goaway().received; }));
    EXPECT_EQ(second.goaway().last_stream_id, 1);
}

TEST_F(Faults, FaultsAreListedAndLogged) {
    sim().add_fault({{"kind", "quota"}, {"count", 3}});
    auto listed = sim().control_json("GET", "/faults");
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0]["kind"], "quota");
    EXPECT_EQ(listed[0]["retry_after_s"], 60);
    push();
    auto log = sim().request_log();
    EXPECT_EQ(log.back()["fault"], "quota");
    EXPECT_EQ(log.back()["status"], 429);
    EXPECT_EQ(log.back()["errorCode"], "QUOTA_EXCEEDED");
}

}  // namespace
}  // namespace pushsync::test
