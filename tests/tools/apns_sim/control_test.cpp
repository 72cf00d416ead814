// SPDX-License-Identifier: BSD-2-Clause
// The control API, the command line and the YAML configuration.
#include <gtest/gtest.h>

#include "tests/tools/apns_sim/sim_test_support.hpp"

namespace pushsync::test {
namespace {

class Control : public SharedSim {};

std::string sim_binary() { return (binary_dir() / "tools" / "apns-sim" / "apns-sim").string(); }

TEST_F(Control, HealthTokensClockAndReset) {
    auto health = sim().control_json("GET", "/health");
    EXPECT_EQ(health["ok"], true);
    EXPECT_EQ(health["environment"], "production");

    sim().mark_unregistered(device_token, 42);
    auto tokens = sim().control_json("GET", "/tokens");
    EXPECT_EQ(tokens[device_token]["state"], "unregistered");
    EXPECT_EQ(tokens[device_token]["timestamp_ms"], 42);

    auto before = sim().control_json("GET", "/clock")["now_s"].get<std::int64_t>();
    sim().set_clock_offset(7200);
    auto after = sim().control_json("GET", "/clock");
    EXPECT_EQ(after["offset_s"], 7200);
    EXPECT_GE(after["now_s"].get<std::int64_t>(), before + 7200);

    sim().add_fault({{"kind", "silence"}, {"count", -1}});
    EXPECT_EQ(sim().control_json("GET", "/faults").size(), 1u);
    sim().reset();
    EXPECT_TRUE(sim().control_json("GET", "/tokens").empty());
    EXPECT_TRUE(sim().control_json("GET", "/faults").empty());
    EXPECT_EQ(sim().control_json("GET", "/clock")["offset_s"], 0);
}

TEST_F(Control, ManyTokensAreMarkedAtOnce) {
    sim().control_json("POST", "/tokens",
                       {{token_n(1), {{"state", "bad"}}}, {token_n(2), {{"state", "unregistered"}, {"timestamp_ms", 9}}}});
    H2TestClient c(client_config(sim()));
    auto jwt = jwt_for(sim());
    EXPECT_EQ(c.request("/3/device/" + token_n(1), background_headers(jwt), background_payload).body,
              R"({"reason":"BadDeviceToken"})");
    EXPECT_EQ(c.request("/3/device/" + token_n(2), background_headers(jwt), background_payload).body,
              R"({"reason":"Unregistered","timestamp":9})");
}

TEST_F(Control, LogSinceReturnsOnlyNewerEntries) {
    H2TestClient c(client_config(sim()));
    auto jwt = jwt_for(sim());
    for (int i = 0; i < 3; ++i) c.request("/3/device/" + token_n(i), background_headers(jwt), background_payload);
    auto all = sim().request_log();
    ASSERT_EQ(all.size(), 3u);
    auto newer = sim().request_log(all[0]["seq"].get<std::uint64_t>());
    ASSERT_EQ(newer.size(), 2u);
    EXPECT_EQ(newer[0]["token"], token_n(1));
    EXPECT_TRUE(sim().wait_for_requests(all[2]["seq"].get<std::size_t>()));
}

TEST_F(Control, UnknownEndpointAndBadBodiesAreClearErrors) {
    auto r = sim().control("GET", "/nope");
    EXPECT_EQ(r.status, 404);
    EXPECT_NE(r.body.find("no such endpoint"), std::string::npos);
    EXPECT_EQ(sim().control("POST", "/tokens/" + device_token, R"({"state":"sleepy"})").status, 400);
    EXPECT_EQ(sim().control("POST", "/clock", R"({"offset_s":"soon"})").status, 400);
}

TEST_F(Control, CurlWithALargeBodyIsAnsweredWithoutExpectDelay) {
    // curl sends "Expect: 100-continue" for bodies over 1 KiB
    std::string body = R"({"state":"valid","topic":")" + std::string(2000, 'x') + R"("})";
    auto r = run({"curl", "-sS", "--max-time", "10", "-w", "%{time_total}", "-o", "/dev/null", "-H",
                  "content-type: application/json", "--data-binary", body,
                  "http://127.0.0.1:" + std::to_string(sim().control_port()) + "/tokens/" + device_token});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(sim().control_json("GET", "/tokens")[device_token]["topic"].get<std::string>().size(), 2000u);
}

TEST(ControlCommandLine, HelpListsEveryOptionAndEndpoint) {
    auto r = run({sim_binary(), "--help"});
    EXPECT_EQ(r.exit_code, 0);
    for (const char* word : {"--listen", "--control", "--cert", "--key", "--ca", "--token-key", "--environment",
                             "--max-streams", "--initial-streams", "--lenient-der", "--log", "--config",
                             "POST /tokens/", "POST /faults", "GET  /log", "GET  /counters", "POST /reset",
                             "POST /clock", "POST /goaway", "refused_stream", "silence", "TooManyProviderTokenUpdates"}) {
        EXPECT_NE(r.out.find(word), std::string::npos) << word;
    }
}

TEST(ControlCommandLine, BadOptionsExitWithOneClearLine) {
    auto r = run({sim_binary(), "--cert", "x", "--key", "y", "--max-streams", "many"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "apns-sim: --max-streams: not a number: 'many'\n");
    r = run({sim_binary(), "--bogus"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("unknown option '--bogus'"), std::string::npos);
    r = run({sim_binary(), "--cert", "/nonexistent.pem", "--key", "/nonexistent.key", "--listen", "127.0.0.1:0",
             "--control", "127.0.0.1:0"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("/nonexistent.pem"), std::string::npos);
}

TEST(ControlConfigFile, YamlFileConfiguresTheSimulator) {
    ApnsSimFixture certs({.start = false});
    int port = free_tcp_port();
    int control = free_tcp_port();
    auto yaml = certs.dir() / "sim.yaml";
    write_file(yaml, "listen: 127.0.0.1:" + std::to_string(port) + "\ncontrol: 127.0.0.1:" + std::to_string(control) +
                         "\ncert: " + certs.server_cert_file().string() + "\nkey: " + certs.server_key_file().string() +
                         "\ntoken-key:\n  - " + certs.key_id() + ":" + certs.team_id() + ":" + certs.key_file().string() +
                         "\nenvironment: sandbox\nmax-streams: 7\nquiet: true\n");
    auto p = Process::spawn({sim_binary(), "--config", yaml.string()}, certs.dir() / "yaml-sim.log");
    ASSERT_TRUE(wait_for_port(port)) << read_file(certs.dir() / "yaml-sim.log");
    ASSERT_TRUE(wait_for_port(control));
    H2ClientConfig config;
    config.port = port;
    config.ca_file = certs.ca_file().string();
    H2TestClient c(config);
    auto jwt = make_jwt(certs.key_file(), certs.key_id(), certs.team_id(), unix_now_s());
    auto r = c.request("/3/device/" + device_token, background_headers(jwt), background_payload);
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.header("apns-unique-id").empty()) << "sandbox";
    ASSERT_TRUE(c.run_until([&] { return c.server_max_streams() == 7u; }));

    write_file(yaml, "max-streams: [oops\n");
    auto bad = run({sim_binary(), "--config", yaml.string()});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("sim.yaml:"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace pushsync::test
