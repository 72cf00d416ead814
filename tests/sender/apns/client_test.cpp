// SPDX-License-Identifier: BSD-2-Clause
// ApnsClient against the real simulator: TLS with the dev CA, ALPN h2, token and certificate
// auth, the stream limit before and after the first accepted JWT, GOAWAY and REFUSED_STREAM
// resends, 503 reconnects, timeouts with RST_STREAM, lost connections and shutdown.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>

#include "sender/apns/jwt.hpp"
#include "tests/sender/apns/client_harness.hpp"
#include "tests/sender/apns/sim_process.hpp"
#include "tests/support/apns_sim_fixture.hpp"

namespace pushsync::sender::test {
namespace {

using Sim = pushsync::test::ApnsSimFixture;
constexpr const char* token_topic = "com.example.app";  // the fixture's token key topic

std::string device_token(std::uint64_t n) {
    char buf[65];
    std::snprintf(buf, sizeof buf, "%016llx%016llx%016llx%016llx", 0xabcdefull, 0x1234ull, 0x5678ull,
                  static_cast<unsigned long long>(n));
    return buf;
}

std::string payload(const std::string& tail) { return R"({"aps":{"content-available":1},"tail":")" + tail + "\"}"; }

class ApnsClientTest : public ::testing::Test {
protected:
    template <typename S>
    ConnectionConfig token_config(S& sim) {
        ConnectionConfig config;
        config.url = sim.url();
        config.ca_file = sim.ca_file().string();
        config.auth.type = AuthType::token;
        config.auth.team_id = sim.team_id();
        config.auth.key_id = sim.key_id();
        config.auth.key_file = sim.key_file().string();
        return config;
    }
    template <typename S>
    PushRequest push(S&, std::uint64_t n, const std::string& tail = "t1") {
        PushRequest request;
        request.token = device_token(n);
        request.topic = std::string(token_topic);
        request.payload = payload(tail);
        request.expiration_unix_s = 1900000000;
        request.tag = n;
        return request;
    }
    // Every tag 0..count-1 answered exactly once, with `status`.
    static void expect_all_answered_once(const ClientHarness& h, std::uint64_t count, int status) {
        EXPECT_EQ(h.responses.size(), count);
        for (std::uint64_t n = 0; n < count; ++n) {
            auto it = h.answers_per_tag.find(n);
            ASSERT_NE(it, h.answers_per_tag.end()) << "tag " << n << " never answered";
            EXPECT_EQ(it->second, 1) << "tag " << n;
        }
        for (const auto& r : h.responses) EXPECT_EQ(r.status, status) << "tag " << r.tag << " " << r.reason;
    }
    // TLS connections the simulator accepted (wait_for_port's probe was one plain TCP connect).
    template <typename S>
    static int accepted_connections(S& sim) {
        auto counters = sim.counters();
        return counters.value("connections_accepted", 0) - counters.value("tls_handshake_failures", 0);
    }
    // Per token, how many requests the simulator answered with 200.
    static std::map<std::string, int> accepted_per_token(const nlohmann::json& log) {
        std::map<std::string, int> out;
        for (const auto& entry : log) {
            if (entry.at("status") == 200) ++out[entry.at("token").get<std::string>()];
        }
        return out;
    }
};

TEST_F(ApnsClientTest, PushIsAcceptedWithApnsIdAndReachesApnsExactlyAsSpecified) {
    Sim sim;
    ClientHarness h(token_config(sim));
    h.client->send(push(sim, 7, "abc-123"));
    EXPECT_EQ(h.client->in_flight(), 1u);
    ASSERT_TRUE(h.run_until_answered(1)) << h.log_text() << pushsync::test::read_file(sim.stderr_file());
    const PushResponse& r = h.responses.at(0);
    EXPECT_EQ(r.tag, 7u);
    EXPECT_EQ(r.status, 200) << r.reason;
    EXPECT_EQ(r.apns_id.size(), 36u) << r.apns_id;  // a UUID the server generated
    EXPECT_EQ(h.client->in_flight(), 0u);

    auto log = sim.request_log();
    ASSERT_EQ(log.size(), 1u) << log.dump();
    const auto& entry = log.at(0);
    EXPECT_EQ(entry.at("method"), "POST");
    EXPECT_EQ(entry.at("path"), "/3/device/" + device_token(7));
    EXPECT_EQ(entry.at("payload"), R"({"aps":{"content-available":1},"tail":"abc-123"})");
    EXPECT_EQ(entry.at("headers"), (nlohmann::json{{"apns-topic", std::string(token_topic)},
                                                   {"apns-push-type", "background"},
                                                   {"apns-priority", "5"},
                                                   {"apns-expiration", "1900000000"}}));
    EXPECT_EQ(entry.at("auth"), "token");
    EXPECT_EQ(entry.at("key_id"), sim.key_id());
    EXPECT_EQ(entry.at("team_id"), sim.team_id());
    EXPECT_EQ(entry.at("apns_id"), r.apns_id);
    EXPECT_EQ(sim.counters().value("priority_frames", 0), 0);  // APNs: no PRIORITY frames
    EXPECT_NE(h.log_text().find("connected"), std::string::npos) << h.log_text();
}

TEST_F(ApnsClientTest, UnregisteredTokenSurfaces410WithItsMillisecondTimestamp) {
    Sim sim;
    sim.control_json("POST", "/tokens/" + device_token(1), {{"state", "unregistered"}, {"timestamp_ms", 1764147600123}});
    ClientHarness h(token_config(sim));
    h.client->send(push(sim, 1));
    h.client->send(push(sim, 2));
    ASSERT_TRUE(h.run_until_answered(2)) << h.log_text();
    const PushResponse* gone = h.response_for(1);
    ASSERT_NE(gone, nullptr);
    EXPECT_EQ(gone->status, 410);
    EXPECT_EQ(gone->reason, "Unregistered");
    EXPECT_EQ(gone->timestamp_ms, 1764147600123);
    EXPECT_FALSE(gone->apns_id.empty());
    EXPECT_EQ(h.response_for(2)->status, 200);
    EXPECT_FALSE(h.client->credentials_rejected());
}

TEST_F(ApnsClientTest, OneStreamUntilTheJwtIsAcceptedThenManyOnOneConnection) {
    Sim sim;
    // Every request held 2 s by the simulator, so concurrency shows in its open streams. The
    // simulator allows one stream until it has checked the first JWT; more would be a
    // stream_limit_violation.
    sim.control_json("POST", "/faults", {{"kind", "delay"}, {"delay_ms", 2000}, {"count", -1}});
    ClientHarness h(token_config(sim));
    constexpr std::uint64_t count = 300;
    for (std::uint64_t n = 0; n < count; ++n) h.client->send(push(sim, n));
    int most_open = 0;
    ASSERT_TRUE(h.run_until([&] {
        auto connections = sim.control_json("GET", "/connections");
        for (const auto& c : connections) most_open = std::max(most_open, c.at("open_streams").get<int>());
        return most_open >= 200;
    })) << "most streams open at once at the simulator: " << most_open << " client: " << h.client->stats().max_open_streams
       << " answered " << h.responses.size() << sim.control_json("GET", "/connections").dump() << h.log_text();
    ASSERT_TRUE(h.run_until_answered(count));
    expect_all_answered_once(h, count, 200);
    auto counters = sim.counters();
    EXPECT_EQ(accepted_connections(sim), 1);
    EXPECT_EQ(counters.value("stream_limit_violations", 0), 0) << counters.dump();
    EXPECT_GE(h.client->stats().max_open_streams, 200u);
    EXPECT_EQ(sim.request_log().size(), count);
}

TEST_F(ApnsClientTest, GoawayMidBurstResendsTheUnprocessedOnANewConnectionOnce) {
    Sim sim;
    // The 150th distinct request triggers GOAWAY with last-stream-id just before it: it and
    // everything opened after it were never processed.
    sim.control_json("POST", "/faults", {{"kind", "goaway"}, {"token", device_token(150)}, {"reason", "Shutdown"}});
    ClientHarness h(token_config(sim));
    constexpr std::uint64_t count = 400;
    for (std::uint64_t n = 0; n < count; ++n) h.client->send(push(sim, n));
    ASSERT_TRUE(h.run_until_answered(count)) << h.log_text();
    expect_all_answered_once(h, count, 200);
    auto accepted = accepted_per_token(sim.request_log());
    EXPECT_EQ(accepted.size(), count);
    for (const auto& [token, times] : accepted) EXPECT_EQ(times, 1) << token;
    EXPECT_EQ(h.client->stats().goaways, 1u);
    EXPECT_GE(h.client->stats().resent, 1u);
    EXPECT_EQ(accepted_connections(sim), 2);
    EXPECT_NE(h.log_text().find("goaway"), std::string::npos);
    EXPECT_NE(h.log_text().find("Shutdown"), std::string::npos) << h.log_text();
}

TEST_F(ApnsClientTest, FollowsTheStreamLimitDownAfterARejection) {
    // This simulator drops MAX_CONCURRENT_STREAMS to 1 after every rejected push until the next
    // accepted one; opening more streams than allowed would be a stream-limit GOAWAY.
    Sim sim(pushsync::test::ApnsSimOptions{.extra_args = {"--drop-limit-after-rejection"}});
    for (std::uint64_t n = 0; n < 300; n += 30) sim.mark_bad(device_token(n));
    ClientHarness h(token_config(sim));
    for (std::uint64_t n = 0; n < 300; ++n) h.client->send(push(sim, n));
    ASSERT_TRUE(h.run_until_answered(300)) << h.log_text();
    EXPECT_EQ(h.responses.size(), 300u);
    int rejected = 0;
    for (const auto& r : h.responses) {
        if (r.tag % 30 == 0) {
            EXPECT_EQ(r.status, 400);
            EXPECT_EQ(r.reason, "BadDeviceToken");
            ++rejected;
        } else {
            EXPECT_EQ(r.status, 200) << r.tag << " " << r.reason;
        }
    }
    EXPECT_EQ(rejected, 10);
    EXPECT_EQ(sim.counters().value("stream_limit_violations", 0), 0);
    EXPECT_EQ(h.client->stats().goaways, 0u);
}

TEST_F(ApnsClientTest, SmallFlowControlWindowsStillDeliverEverything) {
    Sim sim(pushsync::test::ApnsSimOptions{.extra_args = {"--initial-window", "100"}});
    ClientHarness h(token_config(sim));
    for (std::uint64_t n = 0; n < 200; ++n) h.client->send(push(sim, n, std::string(60, 'x')));
    ASSERT_TRUE(h.run_until_answered(200)) << h.log_text();
    expect_all_answered_once(h, 200, 200);
}

TEST_F(ApnsClientTest, SpreadsPushesOverSeveralConnectionsEachWithItsOwnAuthorisation) {
    Sim sim;
    ConnectionConfig config = token_config(sim);
    config.connections = 3;
    ClientHarness h(std::move(config));
    h.client->send(push(sim, 0));  // the first push opens all three
    ASSERT_TRUE(h.run_until([&] { return h.responses.size() == 1 && h.client->stats().connects == 3; }))
        << h.log_text();
    for (std::uint64_t n = 1; n < 600; ++n) h.client->send(push(sim, n));
    ASSERT_TRUE(h.run_until_answered(600)) << h.log_text();
    expect_all_answered_once(h, 600, 200);
    EXPECT_EQ(h.client->stats().connects, 3u);
    auto connections = sim.connections();
    ASSERT_EQ(connections.size(), 3u) << connections.dump();
    for (const auto& c : connections) EXPECT_GT(c.at("requests").get<int>(), 0) << connections.dump();
}

TEST_F(ApnsClientTest, RefusedStreamsAreSentAgainWithoutTheCallerSeeingThem) {
    Sim sim;
    sim.control_json("POST", "/faults", {{"kind", "refused_stream"}, {"count", 5}});
    ClientHarness h(token_config(sim));
    for (std::uint64_t n = 0; n < 20; ++n) h.client->send(push(sim, n));
    ASSERT_TRUE(h.run_until_answered(20)) << h.log_text();
    expect_all_answered_once(h, 20, 200);
    EXPECT_EQ(h.client->stats().resent, 5u);
    for (const auto& [token, times] : accepted_per_token(sim.request_log())) EXPECT_EQ(times, 1) << token;
}

TEST_F(ApnsClientTest, ServiceUnavailableShutdownIsAnsweredThenTheClientReconnects) {
    Sim sim;
    sim.control_json("POST", "/faults", {{"kind", "shutdown"}, {"count", 1}});
    ClientHarness h(token_config(sim));
    h.client->send(push(sim, 1));
    ASSERT_TRUE(h.run_until_answered(1)) << h.log_text();
    EXPECT_EQ(h.responses.at(0).status, 503);
    EXPECT_EQ(h.responses.at(0).reason, "Shutdown");
    // The next push goes over a new connection and is delivered.
    h.client->send(push(sim, 2));
    ASSERT_TRUE(h.run_until_answered(2)) << h.log_text();
    EXPECT_EQ(h.response_for(2)->status, 200) << h.response_for(2)->reason;
    EXPECT_EQ(accepted_connections(sim), 2);
    EXPECT_EQ(h.client->stats().connects, 2u);
}

TEST_F(ApnsClientTest, SilentServerTimesOutWithRstStreamAndTheSlotIsReused) {
    Sim sim;
    sim.control_json("POST", "/faults", {{"kind", "silence"}, {"token", device_token(1)}, {"count", -1}});
    ConnectionConfig config = token_config(sim);
    config.request_timeout_ms = 1000;
    ClientHarness h(std::move(config));
    h.client->send(push(sim, 2));  // authorises the connection first
    ASSERT_TRUE(h.run_until_answered(1));
    ASSERT_EQ(h.response_for(2)->status, 200) << h.response_for(2)->reason;
    h.client->send(push(sim, 1));
    ASSERT_TRUE(h.run_until_answered(2)) << h.log_text();
    const PushResponse* timed_out = h.response_for(1);
    EXPECT_EQ(timed_out->status, 0);
    EXPECT_EQ(timed_out->reason, "Timeout");
    EXPECT_EQ(h.client->in_flight(), 0u);
    ASSERT_TRUE(h.run_until([&] { return sim.counters().value("streams_reset_by_client", 0) == 1; }));
    h.client->send(push(sim, 3));
    ASSERT_TRUE(h.run_until_answered(3));
    EXPECT_EQ(h.response_for(3)->status, 200);
    EXPECT_EQ(accepted_connections(sim), 1);
}

TEST_F(ApnsClientTest, CertificateAuthUsesTheClientCertificateAndNoAuthorizationHeader) {
    Sim sim;
    ConnectionConfig config;
    config.url = sim.url();
    config.ca_file = sim.ca_file().string();
    config.auth.type = AuthType::certificate;
    config.auth.cert_file = sim.client_cert_file().string();
    config.auth.key_file = sim.client_key_file().string();
    ClientHarness h(std::move(config));
    for (std::uint64_t n = 0; n < 50; ++n) {
        PushRequest request = push(sim, n);
        request.topic = std::string(Sim::client_topic);
        h.client->send(std::move(request));
    }
    ASSERT_TRUE(h.run_until_answered(50)) << h.log_text() << pushsync::test::read_file(sim.stderr_file());
    expect_all_answered_once(h, 50, 200);
    auto log = sim.request_log();
    ASSERT_EQ(log.size(), 50u);
    EXPECT_EQ(log.at(0).at("auth"), "certificate");
    EXPECT_EQ(log.at(0).at("key_id"), "");
}

TEST_F(ApnsClientTest, UntrustedServerCertificateNeverConnects) {
    Sim sim;
    ConnectionConfig config = token_config(sim);
    config.ca_file.clear();  // system CAs only: the dev CA is unknown
    config.request_timeout_ms = 1500;
    ClientHarness h(std::move(config));
    h.client->send(push(sim, 1));
    ASSERT_TRUE(h.run_until_answered(1));
    EXPECT_EQ(h.responses.at(0).status, 0);
    EXPECT_EQ(h.responses.at(0).reason, "Timeout");
    EXPECT_NE(h.log_text().find("certificate verify failed"), std::string::npos) << h.log_text();
    EXPECT_EQ(sim.request_log().size(), 0u);
}

TEST_F(ApnsClientTest, ExpiredProviderTokenIsRefreshedOnceAndThePushResent) {
    Sim sim;
    ConnectionConfig config = token_config(sim);
    // The first token is minted with an iat two hours back; every later one with the real time.
    auto clock_skew = std::make_shared<std::int64_t>(-7200);
    config.jwt_cache = std::make_shared<JwtCache>(Es256Key::from_pem_file(sim.key_file().string()), sim.team_id(), sim.key_id(),
                                                  [clock_skew] {
                                                      std::int64_t now = std::time(nullptr) + *clock_skew;
                                                      *clock_skew = 0;
                                                      return now;
                                                  });
    ClientHarness h(std::move(config));
    h.client->send(push(sim, 1));
    ASSERT_TRUE(h.run_until_answered(1)) << h.log_text();
    EXPECT_EQ(h.responses.at(0).status, 200) << h.responses.at(0).reason;
    auto log = sim.request_log();
    ASSERT_EQ(log.size(), 2u) << log.dump();
    EXPECT_EQ(log.at(0).at("status"), 403);
    EXPECT_EQ(log.at(0).at("reason"), "ExpiredProviderToken");
    EXPECT_EQ(log.at(1).at("status"), 200);
}

// APNs takes no new token on a connection within 20 minutes of its last (429
// TooManyProviderTokenUpdates), even after calling the old one expired: the new token goes on a
// new connection. The soak found the sender resending on the old one for good.
TEST_F(ApnsClientTest, ExpiredProviderTokenOnAnAcceptedConnectionResendsOnANewConnection) {
    SimProcess sim;
    ClientHarness h(token_config(sim));
    h.client->send(push(sim, 1));
    ASSERT_TRUE(h.run_until_answered(1)) << h.log_text();
    ASSERT_EQ(h.responses.at(0).status, 200) << h.responses.at(0).reason;
    sim.control_json("POST", "/faults", {{"kind", "status"}, {"status", 403}, {"reason", "ExpiredProviderToken"}, {"count", 1}});
    h.client->send(push(sim, 2));
    ASSERT_TRUE(h.run_until_answered(2)) << h.log_text();
    EXPECT_EQ(h.response_for(2)->status, 200) << h.response_for(2)->reason << "\n" << h.log_text();
    h.client->send(push(sim, 3));
    ASSERT_TRUE(h.run_until_answered(3)) << h.log_text();
    EXPECT_EQ(h.response_for(3)->status, 200) << h.response_for(3)->reason << "\n" << h.log_text();
    auto log = sim.request_log();
    ASSERT_EQ(log.size(), 4u) << log.dump();
    EXPECT_EQ(log.at(1).at("reason"), "ExpiredProviderToken") << log.dump();
    for (std::size_t i : {2, 3}) {
        EXPECT_EQ(log.at(i).at("status"), 200) << "request " << i;
        EXPECT_NE(log.at(i).at("connection"), log.at(1).at("connection")) << "request " << i;
    }
}

TEST_F(ApnsClientTest, TooManyProviderTokenUpdatesMovesLaterPushesToANewConnection) {
    SimProcess sim;
    ClientHarness h(token_config(sim));
    h.client->send(push(sim, 1));
    ASSERT_TRUE(h.run_until_answered(1)) << h.log_text();
    sim.control_json("POST", "/faults", {{"kind", "status"}, {"status", 429}, {"reason", "TooManyProviderTokenUpdates"}, {"count", 1}});
    h.client->send(push(sim, 2));
    ASSERT_TRUE(h.run_until_answered(2)) << h.log_text();
    EXPECT_EQ(h.response_for(2)->status, 429);  // retried later by the dispatcher, like every 429
    h.client->send(push(sim, 3));
    ASSERT_TRUE(h.run_until_answered(3)) << h.log_text();
    EXPECT_EQ(h.response_for(3)->status, 200) << h.response_for(3)->reason;
    auto log = sim.request_log();
    ASSERT_EQ(log.size(), 3u) << log.dump();
    EXPECT_NE(log.at(2).at("connection"), log.at(1).at("connection")) << log.dump();
}

TEST_F(ApnsClientTest, LostConnectionAnswersInFlightPushesThenReconnectsWithBackoff) {
    SimProcess sim;  // restarted on the same port below
    sim.control_json("POST", "/faults", {{"kind", "delay"}, {"delay_ms", 5000}, {"count", -1}});
    ClientHarness h(token_config(sim));
    h.client->send(push(sim, 1));
    ASSERT_TRUE(h.run_until([&] { return sim.counters().value("requests", 0) == 1; }));
    sim.kill();
    ASSERT_TRUE(h.run_until_answered(1)) << h.log_text();
    EXPECT_EQ(h.responses.at(0).status, 0);
    EXPECT_EQ(h.responses.at(0).reason, "ConnectionLost");
    // Pushes sent while the simulator is down wait for the reconnect (1 s, 2 s, ...).
    h.client->send(push(sim, 2));
    // That connection never answered anything, so reconnecting backs off: 1 s, then 2 s, ...
    ASSERT_TRUE(h.run_until([&] { return h.log_text().find("reconnect in 2 s") != std::string::npos; }))
        << h.log_text();
    EXPECT_LT(h.log_text().find("reconnect in 1 s"), h.log_text().find("reconnect in 2 s"));
    sim.start();
    sim.control_json("DELETE", "/faults");
    ASSERT_TRUE(h.run_until_answered(2)) << h.log_text();
    EXPECT_EQ(h.response_for(2)->status, 200) << h.response_for(2)->reason;
    // A connection that served a response resets the backoff: lost again, the next failed
    // attempt waits 1 s again, not 4 s.
    const std::size_t mark = h.log_text().size();
    sim.kill();
    ASSERT_TRUE(h.run_until([&] { return h.log_text().find(" closed: ", mark) != std::string::npos; }))
        << h.log_text();
    h.client->send(push(sim, 3));
    ASSERT_TRUE(h.run_until([&] { return h.log_text().find("reconnect in ", mark) != std::string::npos; }))
        << h.log_text();
    const std::string after = h.log_text().substr(mark);
    EXPECT_EQ(after.substr(after.find("reconnect in "), 16), "reconnect in 1 s") << after;
    sim.start();
    ASSERT_TRUE(h.run_until_answered(3)) << h.log_text();
    EXPECT_EQ(h.response_for(3)->status, 200) << h.response_for(3)->reason;
}

TEST_F(ApnsClientTest, IdleConnectionIsPinged) {
    Sim sim;
    ConnectionConfig config = token_config(sim);
    config.ping_interval_s = 1;
    ClientHarness h(std::move(config));
    h.client->send(push(sim, 1));
    ASSERT_TRUE(h.run_until_answered(1));
    ASSERT_TRUE(h.run_until([&] { return sim.counters().value("pings", 0) >= 1; }, std::chrono::seconds(10)));
    // The PING was answered: the connection stays and carries the next push.
    h.client->send(push(sim, 2));
    ASSERT_TRUE(h.run_until_answered(2));
    EXPECT_EQ(h.response_for(2)->status, 200);
    EXPECT_EQ(h.client->stats().connects, 1u);
}

TEST_F(ApnsClientTest, RejectedCredentialsAreReportedToThePipeline) {
    Sim sim;
    ConnectionConfig config = token_config(sim);
    config.auth.team_id = "WRONGTEAM1";  // the key belongs to another team: InvalidProviderToken
    ClientHarness h(std::move(config));
    h.client->send(push(sim, 1));
    ASSERT_TRUE(h.run_until_answered(1));
    EXPECT_EQ(h.responses.at(0).status, 403);
    EXPECT_EQ(h.responses.at(0).reason, "InvalidProviderToken");
    EXPECT_TRUE(h.client->credentials_rejected());
    EXPECT_NE(h.log_text().find("credentials rejected"), std::string::npos) << h.log_text();
}

TEST_F(ApnsClientTest, ShutdownAnswersQueuedPushesAndLetsTheLoopEnd) {
    Sim sim;
    ClientHarness h(token_config(sim));
    for (std::uint64_t n = 0; n < 30; ++n) h.client->send(push(sim, n));
    // Before any connection is ready everything is still queued.
    h.client->shutdown(2000);
    h.client->send(push(sim, 99));
    ev_run(h.loop(), 0);  // returns only once the client has nothing active
    EXPECT_EQ(h.responses.size(), 31u);
    for (const auto& r : h.responses) {
        EXPECT_EQ(r.status, 0);
        EXPECT_EQ(r.reason, "Shutdown");
    }
    EXPECT_EQ(h.client->in_flight(), 0u);
}

TEST_F(ApnsClientTest, ShutdownLetsStreamsOnTheWireFinish) {
    Sim sim;
    sim.control_json("POST", "/faults", {{"kind", "delay"}, {"delay_ms", 300}, {"count", -1}});
    ClientHarness h(token_config(sim));
    h.client->send(push(sim, 1));
    ASSERT_TRUE(h.run_until([&] { return sim.counters().value("requests", 0) == 1; }));
    h.client->shutdown(5000);
    ev_run(h.loop(), 0);
    ASSERT_EQ(h.responses.size(), 1u);
    EXPECT_EQ(h.responses.at(0).status, 200);
}

}  // namespace
}  // namespace pushsync::sender::test
