// SPDX-License-Identifier: BSD-2-Clause
// The happy path through independent clients: curl --http2, nghttp, and the nghttp2 test client.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/tools/apns_sim/sim_test_support.hpp"

namespace pushsync::test {
namespace {

class Push : public SharedSim {};

bool is_lowercase_uuid(const std::string& s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash != (s[i] == '-')) return false;
        if (!dash && !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    }
    return true;
}

TEST_F(Push, ValidJwtWithCurlAnswers200WithGeneratedApnsId) {
    auto jwt = jwt_for(sim());
    auto r = curl(sim(), "/3/device/" + device_token,
                  {"authorization: bearer " + jwt, "apns-topic: com.example.app", "apns-push-type: background",
                   "apns-priority: 5"},
                  background_payload);
    ASSERT_EQ(r.status, 200) << r.err << r.body;
    EXPECT_EQ(r.http_version, "HTTP/2");
    EXPECT_TRUE(is_lowercase_uuid(r.headers["apns-id"])) << r.headers["apns-id"];
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(r.headers.count("apns-unique-id"), 0u) << "apns-unique-id is sandbox only";
}

TEST_F(Push, ApnsIdIsEchoed) {
    const std::string id = "123e4567-e89b-12d3-a456-426614174000";
    auto r = curl(sim(), "/3/device/" + device_token,
                  {"authorization: bearer " + jwt_for(sim()), "apns-topic: com.example.app", "apns-id: " + id},
                  background_payload);
    ASSERT_EQ(r.status, 200) << r.err << r.body;
    EXPECT_EQ(r.headers["apns-id"], id);
}

TEST_F(Push, NghttpClientGets200) {
    auto payload = sim().dir() / "payload.json";
    write_file(payload, background_payload);
    // nghttp has no CA option (and does not verify by default)
    auto r = run({"nghttp", "-n", "-v", "-H",
                  ":method: POST", "-H", "authorization: bearer " + jwt_for(sim()), "-H", "apns-topic: " + topic, "-H",
                  "apns-push-type: background", "-H", "apns-priority: 5", "-d", payload.string(),
                  sim().url() + "/3/device/" + device_token});
    EXPECT_NE(r.out.find(":status: 200"), std::string::npos) << r.out << r.err;
}

TEST_F(Push, RequestLogRecordsEachRequest) {
    auto jwt = jwt_for(sim());
    H2TestClient client(client_config(sim()));
    auto r = client.request("/3/device/" + device_token, background_headers(jwt), background_payload);
    ASSERT_EQ(r.status, 200);
    auto log = sim().request_log();
    ASSERT_EQ(log.size(), 1u);
    const auto& e = log[0];
    EXPECT_EQ(e["token"], device_token);
    EXPECT_EQ(e["status"], 200);
    EXPECT_EQ(e["auth"], "token");
    EXPECT_EQ(e["key_id"], sim().key_id());
    EXPECT_EQ(e["headers"]["apns-push-type"], "background");
    EXPECT_EQ(e["headers"]["apns-priority"], "5");
    EXPECT_EQ(e["headers"]["apns-topic"], topic);
    EXPECT_EQ(e["payload"], background_payload);
    EXPECT_EQ(e["apns_id"], r.header("apns-id"));
    EXPECT_GT(e["time_ms"].get<std::int64_t>(), 0);
    // The real clock in microseconds, within a second of the millisecond field (no offset moved).
    EXPECT_LT(std::abs(e["received_us"].get<std::int64_t>() / 1000 - e["time_ms"].get<std::int64_t>()), 1000);
    EXPECT_GT(e["connection"].get<std::int64_t>(), 0);
    // the same line went to the log file
    ASSERT_TRUE(wait_until([&] { return read_file(sim().log_file()).find(device_token) != std::string::npos; }));
    auto counters = sim().counters();
    EXPECT_EQ(counters["requests"], 1);
    EXPECT_EQ(counters["status"]["200"], 1);
    EXPECT_EQ(counters["connections_accepted"], 1);
}

TEST(PushFresh, FixtureStartLeavesNoTraceInTheCounters) {
    ApnsSimFixture sim;
    auto counters = sim.counters();
    EXPECT_EQ(counters.value("connections_accepted", 0), 0);
    EXPECT_EQ(counters.value("requests", 0), 0);
}

TEST_F(Push, Http11IsRefused) {
    auto r = run({"curl", "-sS", "--http1.1", "--cacert", sim().ca_file().string(), "--max-time", "10", "-d",
                  background_payload, sim().url() + "/3/device/" + device_token});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.out, "");
}

TEST_F(Push, Tls11IsRefused) {
    auto r = run({"curl", "-sS", "--http2", "--tlsv1.1", "--tls-max", "1.1", "--cacert", sim().ca_file().string(),
                  "--max-time", "10", sim().url() + "/3/device/" + device_token});
    EXPECT_NE(r.exit_code, 0);
}

TEST_F(Push, PingIsAnswered) {
    H2TestClient client(client_config(sim()));
    client.ping();
    ASSERT_TRUE(client.run_until([&] { return client.ping_acks() == 1; }));
}

TEST_F(Push, CertificateAuthUsesTheSubjectUidAsTopic) {
    auto config = client_config(sim());
    config.cert_file = sim().client_cert_file().string();
    config.key_file = sim().client_key_file().string();
    H2TestClient client(config);
    ASSERT_TRUE(client.run_until([&] { return client.settings_received(); }));
    EXPECT_EQ(client.server_max_streams(), 1000u) << "a certificate connection is authorised from the start";
    // no apns-topic: the certificate's single topic is used
    auto r = client.request("/3/device/" + device_token, {{"apns-push-type", "background"}, {"apns-priority", "5"}},
                            background_payload);
    EXPECT_EQ(r.status, 200) << r.body;
    r = client.request("/3/device/" + device_token,
                       {{"apns-topic", "com.example.legacy.voip"}, {"apns-push-type", "voip"}}, background_payload);
    EXPECT_EQ(r.status, 200) << r.body;
    r = client.request("/3/device/" + device_token, {{"apns-topic", topic}}, background_payload);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, R"({"reason":"TopicDisallowed"})");
    auto log = sim().request_log();
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log[0]["auth"], "certificate");
}

TEST(PushSandbox, SandboxAddsApnsUniqueId) {
    ApnsSimFixture sim({.environment = "sandbox"});
    H2TestClient client(client_config(sim));
    auto r = client.request("/3/device/" + device_token, background_headers(jwt_for(sim)), background_payload);
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(is_lowercase_uuid(r.header("apns-unique-id"))) << r.header("apns-unique-id");
}

}  // namespace
}  // namespace pushsync::test
