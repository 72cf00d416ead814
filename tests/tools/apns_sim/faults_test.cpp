// SPDX-License-Identifier: BSD-2-Clause
// Each fault kind, scripted through the control API and observed by a client.
#include <gtest/gtest.h>

#include "tests/tools/apns_sim/sim_test_support.hpp"

namespace pushsync::test {
namespace {

class Faults : public SharedSim {
protected:
    // An authorised connection (first push answered 200) and its JWT.
    struct Authorised {
        std::unique_ptr<H2TestClient> client;
        std::string jwt;
    };
    Authorised authorised() {
        Authorised a{std::make_unique<H2TestClient>(client_config(sim())), jwt_for(sim())};
        EXPECT_EQ(a.client->request("/3/device/" + device_token, background_headers(a.jwt), background_payload).status, 200);
        return a;
    }
    H2Response push(Authorised& a, const std::string& token = device_token) {
        return a.client->request("/3/device/" + token, background_headers(a.jwt), background_payload);
    }
};

TEST_F(Faults, StatusFaultsAnswerTheScriptedStatusAndReasonForTheNextNRequests) {
    auto a = authorised();
    struct Case {
        int status;
        const char* reason;
    };
    for (auto [status, reason] : {Case{429, "TooManyRequests"}, Case{500, "InternalServerError"},
                                  Case{503, "ServiceUnavailable"}, Case{400, "IdleTimeout"}, Case{403, "Forbidden"}}) {
        sim().add_fault({{"kind", "status"}, {"status", status}, {"reason", reason}, {"count", 2}});
        for (int i = 0; i < 2; ++i) {
            auto r = push(a);
            EXPECT_EQ(r.status, status) << reason;
            EXPECT_EQ(r.body, std::string(R"({"reason":")") + reason + R"("})");
        }
        EXPECT_EQ(push(a).status, 200) << "count 2 is used up";
    }
    auto log = sim().request_log();
    EXPECT_EQ(log[1]["fault"], "status");
    EXPECT_EQ(sim().counters()["faults_status"], 10);
}

TEST_F(Faults, FaultForOneTokenLeavesOthersAlone) {
    auto a = authorised();
    sim().add_fault({{"kind", "status"}, {"status", 429}, {"reason", "TooManyRequests"}, {"count", -1}, {"token", token_n(7)}});
    EXPECT_EQ(push(a, token_n(1)).status, 200);
    EXPECT_EQ(push(a, token_n(7)).status, 429);
    EXPECT_EQ(push(a, token_n(7)).status, 429);
    sim().clear_faults();
    EXPECT_EQ(push(a, token_n(7)).status, 200);
}

TEST_F(Faults, RateFaultHitsAboutThatShare) {
    auto a = authorised();
    sim().add_fault({{"kind", "status"}, {"status", 500}, {"reason", "InternalServerError"}, {"count", -1}, {"rate", 0.5}});
    int failed = 0;
    for (int i = 0; i < 200; ++i) failed += push(a).status == 500;
    EXPECT_GT(failed, 50);
    EXPECT_LT(failed, 150);
}

TEST_F(Faults, ShutdownAnswers503ThenGoawayWithJsonReasonAndCloses) {
    auto a = authorised();
    sim().add_fault({{"kind", "shutdown"}});
    auto id = a.client->submit("/3/device/" + device_token, background_headers(a.jwt), background_payload);
    ASSERT_TRUE(a.client->run_until([&] { return a.client->connection_closed(); }));
    EXPECT_EQ(a.client->response(id).status, 503);
    EXPECT_EQ(a.client->response(id).body, R"({"reason":"Shutdown"})");
    ASSERT_TRUE(a.client->goaway().received);
    EXPECT_EQ(a.client->goaway().debug, R"({"reason":"Shutdown"})");
    EXPECT_EQ(a.client->goaway().last_stream_id, id);
    EXPECT_EQ(a.client->goaway().error_code, 0u);
}

TEST_F(Faults, GoawayWithDefaultLastStreamIdLeavesTheRequestUnprocessed) {
    auto a = authorised();  // stream 1
    sim().add_fault({{"kind", "goaway"}});
    auto id = a.client->submit("/3/device/" + device_token, background_headers(a.jwt), background_payload);
    ASSERT_TRUE(a.client->run_until([&] { return a.client->connection_closed(); }));
    ASSERT_TRUE(a.client->goaway().received);
    EXPECT_EQ(a.client->goaway().last_stream_id, id - 2);
    EXPECT_EQ(a.client->response(id).status, 0) << "above last-stream-id: never processed, to be resent";
    EXPECT_EQ(sim().request_log().back()["status"], 0);
}

TEST_F(Faults, GoawayWithAChosenLastStreamIdAnswersStreamsUpToIt) {
    auto a = authorised();  // stream 1
    // Hold streams 3 and 5 open, then stream 7 triggers GOAWAY(last=5): 3 and 5 are still answered.
    auto s3 = a.client->submit("/3/device/" + token_n(3), background_headers(a.jwt), background_payload, "POST", true);
    auto s5 = a.client->submit("/3/device/" + token_n(5), background_headers(a.jwt), background_payload, "POST", true);
    sim().add_fault({{"kind", "goaway"}, {"token", token_n(7)}, {"last_stream_id", s5}, {"reason", "Shutdown"}});
    auto s7 = a.client->submit("/3/device/" + token_n(7), background_headers(a.jwt), background_payload);
    ASSERT_TRUE(a.client->run_until([&] { return a.client->goaway().received; }));
    EXPECT_EQ(a.client->goaway().last_stream_id, s5);
    EXPECT_EQ(a.client->goaway().debug, R"({"reason":"Shutdown"})");
    EXPECT_FALSE(a.client->connection_closed()) << "streams up to last-stream-id are still to be answered";
    a.client->release(s3);
    a.client->release(s5);
    ASSERT_TRUE(a.client->run_until([&] { return a.client->connection_closed(); }));
    EXPECT_EQ(a.client->response(s3).status, 200);
    EXPECT_EQ(a.client->response(s5).status, 200);
    EXPECT_EQ(a.client->response(s7).status, 0);
}

TEST_F(Faults, RefusedStreamResetsTheStream) {
    auto a = authorised();
    sim().add_fault({{"kind", "refused_stream"}});
    auto r = push(a);
    EXPECT_TRUE(r.reset);
    EXPECT_EQ(r.rst_error, 7u /* REFUSED_STREAM */);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(push(a).status, 200) << "the connection goes on";
    EXPECT_EQ(sim().counters()["streams_refused"], 1);
}

TEST_F(Faults, DelayAnswersLaterWhileOtherStreamsGoOn) {
    auto a = authorised();
    sim().add_fault({{"kind", "delay"}, {"delay_ms", 300}, {"token", token_n(1)}});
    auto slow = a.client->submit("/3/device/" + token_n(1), background_headers(a.jwt), background_payload);
    ASSERT_TRUE(a.client->run_until([&] { return sim().counters().value("requests", 0) == 2; }));
    auto fast = push(a, token_n(2));
    EXPECT_EQ(fast.status, 200);
    EXPECT_FALSE(a.client->response(slow).closed) << "the delayed answer comes after the later request's";
    ASSERT_TRUE(a.client->wait_closed(slow));
    EXPECT_EQ(a.client->response(slow).status, 200);
    auto log = sim().request_log();
    EXPECT_EQ(log.back()["fault"], "delay");
}

TEST_F(Faults, SilenceNeverAnswers) {
    auto a = authorised();
    sim().add_fault({{"kind", "silence"}, {"token", token_n(1)}});
    auto silent = a.client->submit("/3/device/" + token_n(1), background_headers(a.jwt), background_payload);
    ASSERT_TRUE(a.client->run_until([&] { return sim().counters().value("faults_silence", 0) == 1; }));
    EXPECT_EQ(push(a, token_n(2)).status, 200);
    EXPECT_FALSE(a.client->response(silent).closed);
    EXPECT_EQ(sim().connections()[0]["open_streams"], 1);
}

TEST_F(Faults, ControlGoawayReachesEveryConnection) {
    auto a = authorised();
    auto b = authorised();
    sim().goaway_all({{"reason", "Shutdown"}});
    for (auto* c : {a.client.get(), b.client.get()}) {
        ASSERT_TRUE(c->run_until([&] { return c->connection_closed(); }));
        EXPECT_EQ(c->goaway().debug, R"({"reason":"Shutdown"})");
        EXPECT_EQ(c->goaway().last_stream_id, 1);
    }
}

TEST_F(Faults, BadFaultRuleIsRefused) {
    EXPECT_EQ(sim().control("POST", "/faults", R"({"kind":"explode"})").status, 400);
    EXPECT_EQ(sim().control("POST", "/faults", R"({"kind":"status","rate":2})").status, 400);
    EXPECT_EQ(sim().control("POST", "/faults", "not json").status, 400);
}

}  // namespace
}  // namespace pushsync::test
