// SPDX-License-Identifier: BSD-2-Clause
// The sender's promises, end to end: real nginx + module, the real
// pushsync-sender binary, apns-sim. Waits on conditions (the simulator's log, the outbox, the
// queue's counters), never on time.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <set>

#include "tests/system/delivery/e2e.hpp"

namespace pushsync::sender::e2e {
namespace {

TEST(SenderE2E, OneNotifyGivesExactlyOnePushToEachOtherDeviceWithTheContractHeadersAndBody) {
    Stack s;
    const std::string a = token(1), b = token(2), c = token(3);
    for (const auto& t : {a, b, c}) s.register_device("family-1", t);
    const std::int64_t before_s = now_unix_ms() / 1000;
    s.notify("family-1", "T-000042", a);
    ASSERT_TRUE(s.sim.wait_for_requests(2));
    ASSERT_TRUE(s.wait_outbox_empty());
    const auto log = s.requests();
    ASSERT_EQ(log.size(), 2u) << read_file(s.sender_log());
    std::set<std::string> tokens;
    for (const auto& e : log) {
        tokens.insert(e["token"]);
        EXPECT_EQ(e["status"], 200) << e.dump();
        EXPECT_EQ(e["method"], "POST");
        EXPECT_EQ(e["path"], "/3/device/" + e["token"].get<std::string>());
        EXPECT_EQ(e["auth"], "token");  // a JWT the simulator accepted
        EXPECT_EQ(e["key_id"], s.sim.key_id());
        EXPECT_EQ(e["team_id"], s.sim.team_id());
        EXPECT_EQ(e["payload"], R"({"aps":{"content-available":1},"tail":"T-000042"})");
        const auto& h = e["headers"];
        EXPECT_EQ(h["apns-topic"], "com.example.app");
        EXPECT_EQ(h["apns-push-type"], "background");
        EXPECT_EQ(h["apns-priority"], "5");
        const std::int64_t expiration = std::stoll(h["apns-expiration"].get<std::string>());
        EXPECT_GE(expiration, before_s + 3600);
        EXPECT_LE(expiration, now_unix_ms() / 1000 + 3600);
    }
    EXPECT_EQ(tokens, (std::set<std::string>{b, c}));
    EXPECT_EQ(s.counter(Counter::pushes_sent), 2u);
    // docs/apns.md's HPACK rule: the per-device path and the JWT go "never indexed".
    EXPECT_EQ(s.sim.counters().value("sensitive_headers_indexed", 0), 0);
    EXPECT_EQ(s.sim.counters().value("priority_frames", 0), 0);
    const std::string sender_log = read_file(s.sender_log());
    EXPECT_NE(sender_log.find("push.sent group=family-1 token=" + b.substr(0, 8) + " tail=T-000042 apns-id="),
              std::string::npos)
        << sender_log;
}

TEST(SenderE2E, Unregistered410PrunesTheTokenButKeepsOneRegisteredAgainAfterTheTimestamp) {
    Stack::Options o;
    // Listings carry whole tokens only where the hoster says so.
    o.nginx_server_extra = "location /full/ { pushsync_api; pushsync_list_tokens on; }";
    Stack s(o);
    const std::string a = token(1), gone = token(2), back = token(3);
    for (const auto& t : {a, gone, back}) s.register_device("g", t);
    // `back` reinstalled the app: APNs' 410 timestamp is older than its fresh registration.
    s.sim.mark_unregistered(back, now_unix_ms() - 1);
    s.register_device("g", back);  // last_seen now > the 410's timestamp
    s.sim.mark_unregistered(gone, now_unix_ms() + 60000);  // after its registration
    s.notify("g", "T1", a);
    ASSERT_TRUE(s.wait_outbox_empty());
    EXPECT_EQ(s.requests_for(gone).size(), 1u);
    EXPECT_EQ(s.requests_for(gone)[0]["status"], 410);
    EXPECT_EQ(s.requests_for(back).size(), 1u);
    const auto group = nlohmann::json::parse(s.nginx.request("GET", "/full/groups/g/devices").body);
    std::set<std::string> left;
    for (const auto& d : group["devices"]) left.insert(d["token"]);
    EXPECT_EQ(left, (std::set<std::string>{a, back}));
    EXPECT_EQ(s.counter(Counter::tokens_pruned), 1u);
}

TEST(SenderE2E, FiveNotifiesWithinCoalesceMsGiveOnePushPerDeviceWithTheNewestTail) {
    Stack::Options o;
    o.delivery = "  coalesce_ms: 3000\n";
    o.start_sender = false;  // all five wait in the queue: the sender sees them within one window
    Stack s(o);
    const std::string a = token(1), b = token(2), c = token(3);
    for (const auto& t : {a, b, c}) s.register_device("g", t);
    for (int i = 1; i <= 5; ++i) s.notify("g", "T" + std::to_string(i), i == 5 ? a : "");
    ASSERT_EQ(Queue::open_existing(s.nginx.queue_path().string())->stats().depth, 5u);
    s.start_sender();
    ASSERT_TRUE(s.wait_outbox_empty()) << read_file(s.sender_log());
    const auto log = s.requests();
    ASSERT_EQ(log.size(), 2u) << read_file(s.sender_log());  // b and c; a sent the newest notify
    std::set<std::string> tokens;
    for (const auto& e : log) {
        tokens.insert(e["token"]);
        EXPECT_EQ(e["status"], 200) << e.dump();
        EXPECT_EQ(e["payload"], R"({"aps":{"content-available":1},"tail":"T5"})");
    }
    EXPECT_EQ(tokens, (std::set<std::string>{b, c}));
}

TEST(SenderE2E, ServiceUnavailableThreeTimesThenOkIsDeliveredOnceAndANonRetryable400IsTriedOnce) {
    Stack s;
    const std::string origin = token(1), flaky = token(2), refused = token(3);
    for (const auto& t : {origin, flaky, refused}) s.register_device("g", t);
    s.sim.add_fault({{"kind", "status"}, {"status", 503}, {"reason", "ServiceUnavailable"}, {"count", 3}, {"token", flaky}});
    s.sim.add_fault({{"kind", "status"}, {"status", 400}, {"reason", "BadTopic"}, {"count", -1}, {"token", refused}});
    s.notify("g", "T1", origin);
    ASSERT_TRUE(s.wait_outbox_empty()) << read_file(s.sender_log()) << s.sim.request_log(0).dump();
    const auto flaky_log = s.requests_for(flaky);
    ASSERT_EQ(flaky_log.size(), 4u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(flaky_log[i]["status"], 503);
    EXPECT_EQ(flaky_log[3]["status"], 200);
    EXPECT_EQ(s.delivered_to(flaky), 1u);
    EXPECT_EQ(s.requests_for(refused).size(), 1u);
    EXPECT_EQ(s.counter(Counter::pushes_failed), 1u);
    EXPECT_EQ(s.counter(Counter::pushes_sent), 1u);
}

TEST(SenderE2E, GoawayInTheMiddleOfABurstStillDeliversEveryPushExactlyOnce) {
    Stack s;
    constexpr int devices = 300;
    std::vector<std::string> tokens;
    for (int i = 0; i < devices; ++i) tokens.push_back(token(i));
    std::vector<std::pair<std::string, std::string>> registrations;
    for (const auto& t : tokens) registrations.emplace_back(t, "big");
    ASSERT_EQ(s.import_devices(registrations), 0);
    // The 150th request triggers GOAWAY naming an earlier stream: everything above was never processed.
    s.sim.add_fault({{"kind", "goaway"}, {"token", tokens[150]}, {"count", 1}, {"reason", "Shutdown"}});
    s.notify("big", "T1");
    ASSERT_TRUE(s.wait_outbox_empty(std::chrono::seconds(30))) << read_file(s.sender_log());
    std::map<std::string, int> ok;
    std::set<std::uint64_t> connections;
    int goaways = 0;
    for (const auto& e : s.requests()) {
        if (e["status"] == 200) ++ok[e["token"]];
        connections.insert(e["connection"].get<std::uint64_t>());
        goaways += e["fault"] == "goaway";
    }
    EXPECT_EQ(goaways, 1);
    EXPECT_GE(connections.size(), 2u) << "the rest went on a new connection";
    EXPECT_EQ(ok.size(), tokens.size());
    for (const auto& t : tokens) EXPECT_EQ(ok[t], 1) << t;
    EXPECT_EQ(s.counter(Counter::pushes_sent), static_cast<std::uint64_t>(devices));
}

TEST(SenderE2E, AGroupOfManyPagesAndWindowsGetsItsNewestTailOnceEachThroughAGoaway) {
    Stack s;
    constexpr int devices = 5000;  // more than a connection's window and several fan-out pages
    std::vector<std::string> tokens;
    std::vector<std::pair<std::string, std::string>> registrations;
    for (int i = 0; i < devices; ++i) {
        tokens.push_back(token(i, 'b'));
        registrations.emplace_back(tokens.back(), "huge");
    }
    ASSERT_EQ(s.import_devices(registrations), 0);
    s.sim.add_fault({{"kind", "goaway"}, {"token", tokens[3000]}, {"count", 1}, {"reason", "Shutdown"}});
    s.notify("huge", "T1");
    ASSERT_TRUE(s.sim.wait_for_requests(1000));
    s.notify("huge", "T2");  // while T1 is still fanning out
    ASSERT_TRUE(s.wait_outbox_empty(std::chrono::seconds(60))) << read_file(s.sender_log());
    std::map<std::string, std::vector<std::string>> delivered;  // per device, in the simulator's order
    std::uint64_t ok = 0;
    for (const auto& e : s.requests()) {
        if (e["status"] != 200) continue;
        ++ok;
        delivered[e["token"]].push_back(nlohmann::json::parse(e["payload"].get<std::string>())["tail"]);
    }
    ASSERT_EQ(delivered.size(), tokens.size());
    std::size_t got_t1 = 0;
    for (const auto& t : tokens) {
        const auto& tails = delivered[t];
        ASSERT_FALSE(tails.empty()) << t;
        EXPECT_EQ(tails.back(), "T2") << t;
        EXPECT_EQ(std::count(tails.begin(), tails.end(), "T2"), 1) << t;
        EXPECT_LE(tails.size(), 2u) << t << " got " << ::testing::PrintToString(tails);  // no T1 twice
        got_t1 += tails.front() == "T1";
    }
    EXPECT_GT(got_t1, 0u);  // (which devices T2 took over from T1 depends on timing: see PipelineTest)
    EXPECT_EQ(s.counter(Counter::pushes_sent), ok);
}

TEST(SenderE2E, SigkillWithWorkPendingThenRestartLeavesEveryDeviceWithItsGroupsNewestTail) {
    Stack::Options o;
    o.delivery = "  coalesce_ms: 20\n  retry_base_ms: 50\n  retry_max_ms: 400\n  max_attempts: 1000000\n";
    Stack s(o);
    constexpr int groups = 100, per_group = 3, notifies = 1000, held_groups = 10;
    std::vector<std::pair<std::string, std::string>> registrations;
    for (int g = 0; g < groups; ++g)
        for (int d = 0; d < per_group; ++d) registrations.emplace_back(token(g * per_group + d), "g" + std::to_string(g));
    ASSERT_EQ(s.import_devices(registrations), 0);
    // One device in each of the first groups is refused with a retryable 503 until the restart:
    // the sender keeps those pushes (with the newest tail) in its outbox, so work is known to be
    // pending when it is killed. The rest are delivered (or not) while the burst arrives.
    for (int g = 0; g < held_groups; ++g)
        s.sim.add_fault({{"kind", "status"}, {"status", 503}, {"reason", "ServiceUnavailable"}, {"count", -1},
                         {"token", token(g * per_group)}});
    // curl sends the burst in parallel from one process; the last notify of each group goes in a
    // final wave after the others are answered, so "newest" is well defined. Both waves are sent
    // before the kill: a sender that lost its outbox on restart would leave devices behind.
    auto curl_config = [&](int from, int to) {
        std::string cfg;
        for (int i = from; i < to; ++i) {
            if (i != from) cfg += "next\n";
            cfg += "url = \"" + s.nginx.url("/v1/groups/g" + std::to_string(i % groups) + "/notify") + "\"\n" +
                   "header = \"Content-Type: application/json\"\n" + "data = \"{\\\"tail\\\":\\\"T-" +
                   std::to_string(i) + "\\\"}\"\n" + "output = \"/dev/null\"\n" + "write-out = \"%{http_code}\\n\"\n";
        }
        return cfg;
    };
    write_file(s.nginx.prefix() / "burst.curl", curl_config(0, notifies - groups));
    write_file(s.nginx.prefix() / "final.curl", curl_config(notifies - groups, notifies));
    const auto burst = run({"curl", "-sS", "-Z", "--parallel-max", "16", "-K", (s.nginx.prefix() / "burst.curl").string()});
    ASSERT_EQ(burst.exit_code, 0) << burst.err;
    const auto final_wave = run({"curl", "-sS", "-Z", "--parallel-max", "16", "-K", (s.nginx.prefix() / "final.curl").string()});
    ASSERT_EQ(final_wave.exit_code, 0) << final_wave.err;
    const std::string answers = burst.out + final_wave.out;
    std::size_t accepted = 0;
    for (std::size_t pos = 0; (pos = answers.find("202", pos)) != std::string::npos; pos += 3) ++accepted;
    ASSERT_EQ(accepted, static_cast<std::size_t>(notifies));
    // Kill once the sender holds owed work: the queue or the outbox is not empty.
    auto pending = [&] {
        const auto depth = Queue::open_existing(s.nginx.queue_path().string())->stats().depth;
        const auto r = run({(binary_dir() / "cli" / "pushsyncctl").string(), "--config", s.nginx.config_path().string(),
                            "stats", "--json"});
        const auto j = nlohmann::json::parse(r.out, nullptr, false);
        const std::uint64_t outbox = j.is_object() && j.contains("outbox") ? j["outbox"].get<std::uint64_t>() : 0;
        return depth + outbox;
    };
    ASSERT_TRUE(wait_until([&] { return pending() >= static_cast<std::uint64_t>(held_groups); }))
        << read_file(s.sender_log());
    s.sender.kill_and_wait(SIGKILL);
    const std::uint64_t pending_at_kill = pending();
    EXPECT_GE(pending_at_kill, static_cast<std::uint64_t>(held_groups)) << "the held pushes survived the kill";
    s.sim.clear_faults();
    s.start_sender();
    ASSERT_TRUE(s.wait_outbox_empty(std::chrono::seconds(60))) << read_file(s.sender_log());
    if (std::getenv("PUSHSYNC_TEST_VERBOSE")) std::fprintf(stderr, "%s", read_file(s.sender_log()).c_str());
    // What each device holds: the tail of the last push the simulator accepted for it.
    std::map<std::string, std::string> holds;
    for (const auto& e : s.requests()) {
        if (e["status"] != 200) continue;
        holds[e["token"]] = nlohmann::json::parse(e["payload"].get<std::string>())["tail"];
    }
    for (int g = 0; g < groups; ++g) {
        const std::string newest = "T-" + std::to_string(notifies - groups + g);
        for (int d = 0; d < per_group; ++d) EXPECT_EQ(holds[token(g * per_group + d)], newest) << "group g" << g;
    }
}

TEST(SenderE2E, CredentialErrorsHoldThePushesAlertOnceAndPruneNothing) {
    Stack s;
    const std::string origin = token(1), b = token(2), c = token(3);
    for (const auto& t : {origin, b, c}) s.register_device("g", t);
    s.sim.add_fault({{"kind", "status"}, {"status", 403}, {"reason", "InvalidProviderToken"}, {"count", -1}});
    s.notify("g", "T1", origin);
    auto alerts = [&] {
        const std::string log = read_file(s.sender_log());
        std::size_t n = 0;
        for (std::size_t pos = 0; (pos = log.find("apns.credentials_rejected", pos)) != std::string::npos; ++pos) ++n;
        return n;
    };
    ASSERT_TRUE(wait_until([&] { return alerts() >= 1; })) << read_file(s.sender_log());
    EXPECT_EQ(alerts(), 1u);
    EXPECT_EQ(s.counter(Counter::pushes_failed), 0u);
    EXPECT_EQ(s.counter(Counter::tokens_pruned), 0u);
    EXPECT_EQ(s.stop_sender(SIGTERM), 0);
    // Nothing pruned, and the notify is still owed: it waits in the outbox for fixed credentials.
    const auto group = nlohmann::json::parse(s.nginx.request("GET", "/v1/groups/g/devices").body);
    EXPECT_EQ(group["devices"].size(), 3u);
    const auto stats = run({(binary_dir() / "cli" / "pushsyncctl").string(), "--config", s.nginx.config_path().string(),
                            "stats", "--json"});
    EXPECT_EQ(nlohmann::json::parse(stats.out)["outbox"], 1);
}

TEST(SenderE2E, SenderStartedBeforeNginxWorks) {
    Stack::Options o;
    o.start_nginx = false;
    Stack s(o);  // the sender creates the queue and the store
    s.nginx.start();
    const std::string a = token(1), b = token(2);
    s.register_device("g", a);
    s.register_device("g", b);
    s.notify("g", "T1", a);
    ASSERT_TRUE(s.sim.wait_for_requests(1));
    ASSERT_TRUE(s.wait_outbox_empty());
    EXPECT_EQ(s.delivered_to(b), 1u);
}

TEST(SenderE2E, NginxStartedBeforeTheSenderWorksAndNotifiesWaitInTheQueue) {
    Stack::Options o;
    o.start_sender = false;
    Stack s(o);
    const std::string a = token(1), b = token(2);
    s.register_device("g", a);
    s.register_device("g", b);
    s.notify("g", "T1", a);
    s.start_sender();
    ASSERT_TRUE(s.sim.wait_for_requests(1));
    ASSERT_TRUE(s.wait_outbox_empty());
    EXPECT_EQ(s.delivered_to(b), 1u);
    EXPECT_EQ(s.stop_sender(SIGTERM), 0);
}

TEST(SenderE2E, AQueueResetUnderARunningSenderIsFollowedToTheNewFile) {
    Stack s;
    const std::string a = token(1), b = token(2);
    s.register_device("g", a);
    s.register_device("g", b);
    s.notify("g", "T1", a);
    ASSERT_TRUE(s.sim.wait_for_requests(1));
    const auto reset = run({(binary_dir() / "cli" / "pushsyncctl").string(), "--config", s.nginx.config_path().string(),
                            "queue", "reset", "--force"});
    ASSERT_EQ(reset.exit_code, 0) << reset.out << reset.err;
    ASSERT_TRUE(wait_until([&] { return read_file(s.sender_log()).find("queue.reopened") != std::string::npos; }))
        << read_file(s.sender_log());
    s.notify("g", "T2", a);  // the worker reopens the path too
    ASSERT_TRUE(s.sim.wait_for_requests(2)) << read_file(s.sender_log());
    const auto got = s.requests_for(b);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_NE(got.back().value("payload", "").find("\"T2\""), std::string::npos);
    EXPECT_TRUE(wait_until([&] { return s.heartbeat() > 0; }));  // the new file shows the sender alive
    EXPECT_EQ(s.stop_sender(SIGTERM), 0);
}

// SIGTERM and SIGINT both stop the sender through its shutdown path.
class SenderE2EShutdown : public ::testing::TestWithParam<int> {};

TEST_P(SenderE2EShutdown, HandsBackAPushTheSimulatorNeverAnsweredAndTheNextStartDeliversIt) {
    Stack::Options o;
    o.request_timeout_ms = 1000;  // also the shutdown grace
    Stack s(o);
    const std::string a = token(1), b = token(2);
    s.register_device("g", a);
    s.register_device("g", b);
    s.sim.add_fault({{"kind", "silence"}, {"count", -1}});
    s.notify("g", "T1", a);
    ASSERT_TRUE(s.sim.wait_for_requests(1));
    EXPECT_EQ(s.stop_sender(GetParam()), 0) << read_file(s.sender_log());
    EXPECT_NE(read_file(s.sender_log()).find(GetParam() == SIGTERM ? "why=SIGTERM" : "why=SIGINT"), std::string::npos);
    s.sim.clear_faults();
    s.start_sender();
    ASSERT_TRUE(s.wait_outbox_empty()) << read_file(s.sender_log()) << s.sim.request_log(0).dump();
    EXPECT_EQ(s.delivered_to(b), 1u);
}

INSTANTIATE_TEST_SUITE_P(Signals, SenderE2EShutdown, ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& info) {
                             return std::string(info.param == SIGTERM ? "Sigterm" : "Sigint");
                         });

TEST(SenderE2E, AnUnreadableKeyFileExitsTwoWithFileAndLine) {
    Stack::Options o;
    o.start_sender = false;
    o.start_nginx = false;
    TempDir keys;
    o.key_file = (keys / "AuthKey_missing.p8").string();
    Stack s(o);
    const auto r = run({Stack::sender_binary().string(), "--config", s.nginx.config_path().string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(s.nginx.config_path().string() + ":"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(": apps[0].auth.key_file: cannot read " + o.key_file + " (No such file or directory)"),
              std::string::npos)
        << r.err;
}

}  // namespace
}  // namespace pushsync::sender::e2e
