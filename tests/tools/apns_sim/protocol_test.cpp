// SPDX-License-Identifier: BSD-2-Clause
// HTTP/2 conduct APNs expects of providers, made visible: PRIORITY frames, requests before the
// server's SETTINGS, flow control with a small window, and per-token request rates.
#include <gtest/gtest.h>

#include "tests/tools/apns_sim/sim_test_support.hpp"

namespace pushsync::test {
namespace {

class Protocol : public SharedSim {};

TEST_F(Protocol, PriorityFramesAreCounted) {
    auto payload = sim().dir() / "payload.json";
    write_file(payload, background_payload);
    // nghttp sends PRIORITY frames for its dependency tree; APNs asks providers not to
    auto r = run({"nghttp", "-n", "-H", ":method: POST", "-H", "authorization: bearer " + jwt_for(sim()), "-H",
                  "apns-topic: " + topic, "-d", payload.string(), sim().url() + "/3/device/" + device_token});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_GT(sim().counters().value("priority_frames", 0), 0);
    sim().reset();
    H2TestClient c(client_config(sim()));
    ASSERT_EQ(c.request("/3/device/" + device_token, background_headers(jwt_for(sim())), background_payload).status, 200);
    EXPECT_EQ(sim().counters().value("priority_frames", 0), 0);
}

TEST_F(Protocol, PathAndAuthorizationSentIndexableAreCounted) {
    H2TestClient indexing(client_config(sim()));
    ASSERT_EQ(indexing.request("/3/device/" + device_token, background_headers(jwt_for(sim())), background_payload).status, 200);
    // The path; nghttp2's encoder sends `authorization` never indexed whatever the caller asks.
    EXPECT_EQ(sim().counters().value("sensitive_headers_indexed", 0), 1);
    sim().reset();
    H2ClientConfig config = client_config(sim());
    config.never_index_sensitive = true;
    H2TestClient careful(config);
    ASSERT_EQ(careful.request("/3/device/" + device_token, background_headers(jwt_for(sim())), background_payload).status, 200);
    EXPECT_EQ(sim().counters().value("sensitive_headers_indexed", 0), 0);
}

TEST_F(Protocol, RequestBeforeTheServerSettingsIsCounted) {
    {
        H2TestClient eager(client_config(sim()));
        // submitted before anything was read: goes out with the preface, before our SETTINGS ACK
        auto id = eager.submit("/3/device/" + device_token, background_headers(jwt_for(sim())), background_payload);
        ASSERT_TRUE(eager.wait_closed(id));
    }
    EXPECT_EQ(sim().counters().value("streams_before_settings_ack", 0), 1);
    H2TestClient careful(client_config(sim()));
    ASSERT_TRUE(careful.run_until([&] { return careful.settings_received(); }));
    ASSERT_EQ(careful.request("/3/device/" + device_token, background_headers(jwt_for(sim())), background_payload).status, 200);
    EXPECT_EQ(sim().counters().value("streams_before_settings_ack", 0), 1);
}

TEST_F(Protocol, NoAlpnMeansPriorKnowledgeHttp2) {
    auto config = client_config(sim());
    config.alpn.clear();
    H2TestClient c(config);
    EXPECT_EQ(c.alpn(), "");
    EXPECT_EQ(c.request("/3/device/" + device_token, background_headers(jwt_for(sim())), background_payload).status, 200);
}

TEST_F(Protocol, GarbageAfterTheHandshakeClosesThatConnectionOnly) {
    // HTTP/1.1 spoken over TLS without ALPN: not the HTTP/2 preface
    auto r = run({"timeout", "10", "openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(sim().port()),
                  "-CAfile", sim().ca_file().string(), "-quiet", "-no_ign_eof"},
                 "POST /3/device/" + device_token + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.out.find("HTTP/1.1 200"), std::string::npos);
    H2TestClient c(client_config(sim()));
    EXPECT_EQ(c.request("/3/device/" + device_token, background_headers(jwt_for(sim())), background_payload).status, 200);
    EXPECT_TRUE(wait_until([&] { return sim().counters().value("connections_open", 1) == 1; }));
}

TEST(ProtocolIdle, IdleConnectionGetsGoawayIdleTimeout) {
    ApnsSimFixture sim({.extra_args = {"--idle-timeout", "1"}});
    H2TestClient c(client_config(sim));
    ASSERT_EQ(c.request("/3/device/" + device_token, background_headers(jwt_for(sim)), background_payload).status, 200);
    ASSERT_TRUE(c.run_until([&] { return c.connection_closed(); }));
    ASSERT_TRUE(c.goaway().received);
    EXPECT_EQ(c.goaway().debug, R"({"reason":"IdleTimeout"})");
    EXPECT_EQ(c.goaway().last_stream_id, 1);
    EXPECT_EQ(sim.counters()["idle_timeouts"], 1);
}

TEST(ProtocolSmallWindow, PayloadLargerThanTheWindowFlowsWithWindowUpdates) {
    ApnsSimFixture sim({.extra_args = {"--initial-window", "1000"}});
    H2TestClient c(client_config(sim));
    ASSERT_TRUE(c.run_until([&] { return c.settings_received(); }));
    std::string body = R"({"aps":{"content-available":1},"x":")" + std::string(4000, 'x') + "\"}";
    body.resize(4096 - 2);
    body += "\"}";
    auto r = c.request("/3/device/" + device_token, background_headers(jwt_for(sim)), body);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(sim.request_log()[0]["payload"].get<std::string>().size(), 4096u);
}

TEST(ProtocolTokenRate, TooManyRequestsToOneTokenIs429) {
    ApnsSimFixture sim({.extra_args = {"--token-rate-limit", "2"}});
    H2TestClient c(client_config(sim));
    auto jwt = jwt_for(sim);
    int too_many = 0;
    // 5 pushes within a second hold at most 2+2 that pass even across a second boundary
    for (int i = 0; i < 5; ++i) {
        auto r = c.request("/3/device/" + device_token, background_headers(jwt), background_payload);
        if (r.status == 429) {
            ++too_many;
            EXPECT_EQ(r.body, R"({"reason":"TooManyRequests"})");
        }
    }
    EXPECT_GE(too_many, 1);
    EXPECT_EQ(c.request("/3/device/" + token_n(1), background_headers(jwt), background_payload).status, 200)
        << "other tokens are not limited";
}

TEST(ProtocolMultiTopicCertificate, NoTopicIsMissingTopic) {
    ApnsSimFixture sim;
    TempDir dir;
    write_file(dir / "ext.cnf", "1.2.840.113635.100.6.3.6=ASN1:UTF8String:com.example.legacy\n");
    ASSERT_EQ(run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
                   "/UID=com.example.legacy/CN=multi", "-keyout", (dir / "k.pem").string(), "-out", (dir / "r.csr").string()})
                  .exit_code,
              0);
    auto signed_ = run({"openssl", "x509", "-req", "-in", (dir / "r.csr").string(), "-CA", sim.ca_file().string(), "-CAkey",
                        (sim.certs_dir() / "ca.key").string(), "-CAcreateserial", "-CAserial", (dir / "ca.srl").string(),
                        "-days", "2", "-extfile", (dir / "ext.cnf").string(), "-out", (dir / "c.pem").string()});
    ASSERT_EQ(signed_.exit_code, 0) << signed_.err;
    auto config = client_config(sim);
    config.cert_file = (dir / "c.pem").string();
    config.key_file = (dir / "k.pem").string();
    H2TestClient c(config);
    auto r = c.request("/3/device/" + device_token, {{"apns-push-type", "background"}}, background_payload);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, R"({"reason":"MissingTopic"})");
    EXPECT_EQ(c.request("/3/device/" + device_token, {{"apns-topic", "com.example.legacy"}}, background_payload).status, 200);
}

}  // namespace
}  // namespace pushsync::test
