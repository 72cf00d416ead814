// SPDX-License-Identifier: BSD-2-Clause
// The delivery statistics end to end: real nginx with the module, the real sender and apns-sim.
// After a known mix of APNs answers (200, 410, 503 then 200, 400), /pushsync/metrics
// shows exactly what the simulator logged, and the store's per-device statistics and recent
// events say what happened to each device.
#include "shared/store/store.hpp"
#include "tests/system/delivery/e2e.hpp"

namespace pushsync::sender::e2e {
namespace {

std::string labels_of(const std::string& status, const std::string& reason) {
    return R"(pushsync_apns_responses_total{bundle_id="com.example.app",environment="production",status=")" +
           status + R"(",reason=")" + reason + "\"}";
}

nlohmann::json ctl_json(const Stack& s, const std::vector<std::string>& args) {
    std::vector<std::string> argv{(binary_dir() / "cli" / "pushsyncctl").string(), "--config",
                                  s.nginx.config_path().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
}

TEST(SenderMetricsE2E, CountersAndHistogramCountsEqualWhatTheSimulatorLogged) {
    Stack::Options o;
    o.delivery = "  coalesce_ms: 0\n  retry_base_ms: 20\n  retry_max_ms: 100\n  max_attempts: 6\n";
    o.request_timeout_ms = 10000;  // the 503's reconnect (1 s) must not turn a waiting push into a timeout
    Stack s(o);
    // Distinct first 8 digits: events name a token by its prefix.
    const std::string origin = token(1), ok1 = token(2), ok2 = token(3), gone = token(4, 'b'), flaky = token(5),
                      down = token(6, 'c');
    for (const auto& t : {origin, ok1, ok2, gone, flaky, down}) s.register_device("g", t);
    s.sim.mark_unregistered(gone, now_unix_ms() + 60000);  // after its registration: pruned
    s.sim.add_fault({{"kind", "status"}, {"status", 503}, {"reason", "ServiceUnavailable"}, {"count", 1}, {"token", flaky}});
    s.sim.add_fault({{"kind", "status"}, {"status", 400}, {"reason", "BadTopic"}, {"count", -1}, {"token", down}});
    s.notify("g", "T1", origin);
    ASSERT_TRUE(s.wait_outbox_empty()) << read_file(s.sender_log());

    // What the simulator answered, by (status, reason).
    std::map<std::pair<std::string, std::string>, int> answered;
    int delivered = 0;
    const auto log = s.requests();
    for (const auto& e : log) {
        const int status = e.value("status", 0);
        ++answered[{std::to_string(status), status == 200 ? "" : e.value("reason", "")}];
        delivered += status == 200;
    }
    // The mix the test means to make: 200 (ok1, ok2, flaky at its retry), 410 (gone), 503 (flaky
    // once) and 400 (down, never retried). A push caught by the reconnect after the 503 could
    // still end without an answer: that is counted under its own status, never in the simulator's log.
    ASSERT_EQ(delivered, 3) << read_file(s.sender_log());
    ASSERT_EQ((answered[{"410", "Unregistered"}]), 1);
    ASSERT_EQ((answered[{"503", "ServiceUnavailable"}]), 1);
    ASSERT_EQ((answered[{"400", "BadTopic"}]), 1);

    const auto page = s.nginx.request("GET", "/pushsync/metrics");
    ASSERT_EQ(page.status, 200) << page.body;
    const auto metrics = samples(page.body);
    double answers = 0;
    for (const auto& [name, value] : metrics) {
        if (!name.starts_with("pushsync_apns_responses_total")) continue;
        const auto status = name.find("status=\"");
        if (std::isdigit(static_cast<unsigned char>(name[status + 8]))) answers += value;
    }
    EXPECT_EQ(answers, static_cast<double>(log.size())) << page.body;
    for (const auto& [key, n] : answered) {
        EXPECT_EQ(metrics.at(labels_of(key.first, key.second)), n) << key.first << " " << key.second << "\n" << page.body;
    }
    const std::string app = R"(bundle_id="com.example.app",environment="production")";
    EXPECT_EQ(metrics.at("pushsync_apns_request_seconds_count{" + app + "}"), static_cast<double>(log.size()));
    EXPECT_EQ(metrics.at("pushsync_apns_request_seconds_bucket{" + app + R"(,le="+Inf"})"), static_cast<double>(log.size()));
    EXPECT_EQ(metrics.at("pushsync_notify_to_push_seconds_count"), delivered);
    EXPECT_EQ(metrics.at(R"(pushsync_notify_to_push_seconds_bucket{le="+Inf"})"), delivered);
    EXPECT_GT(metrics.at("pushsync_notify_to_push_seconds_sum"), 0.0);
    // Buckets are cumulative: in the page's order, never decreasing.
    double previous = 0;
    std::istringstream lines(page.body);
    for (std::string line; std::getline(lines, line);) {
        if (!line.starts_with("pushsync_notify_to_push_seconds_bucket")) continue;
        const double value = std::stod(line.substr(line.rfind(' ') + 1));
        EXPECT_GE(value, previous) << line;
        previous = value;
    }
    EXPECT_EQ(previous, delivered);
    EXPECT_EQ(metrics.at("pushsync_devices{" + app + "}"), 5);  // six registered, one pruned
    EXPECT_EQ(metrics.at("pushsync_outbox_entries"), 0);
    EXPECT_GT(metrics.at("pushsync_store_map_used_ratio"), 0);
    EXPECT_LT(metrics.at("pushsync_store_map_used_ratio"), 1);

    // The store's side, through pushsyncctl: per-device figures and the recent events.
    const auto flaky_stats = ctl_json(s, {"device", flaky, "--json"})["delivery"];
    EXPECT_EQ(flaky_stats["sent"], 1);
    EXPECT_EQ(flaky_stats["failed"], 0);
    EXPECT_EQ(flaky_stats["last_push"]["status"], 200);
    EXPECT_EQ(flaky_stats["last_push"]["tail"], "T1");
    EXPECT_EQ(flaky_stats["last_push"]["apns_id"], s.requests_for(flaky).back()["apns_id"]);
    const auto down_stats = ctl_json(s, {"device", down, "--json"})["delivery"];
    EXPECT_EQ(down_stats["sent"], 0);
    EXPECT_EQ(down_stats["failed"], 1);
    EXPECT_EQ(down_stats["last_push"]["status"], 400);
    EXPECT_EQ(down_stats["last_push"]["reason"], "BadTopic");
    const auto origin_stats = ctl_json(s, {"device", origin, "--json"})["delivery"];
    EXPECT_EQ(origin_stats["last_push"], nullptr);

    StoreOptions options;
    options.path = s.nginx.store_path().string();
    options.read_only = true;
    const auto events = Store(options).recent_events(10);
    ASSERT_EQ(events.size(), 2u);
    std::map<std::string, StoreEvent> by_token;
    for (const auto& e : events) by_token[e.token_prefix] = e;
    EXPECT_EQ(by_token.at(gone.substr(0, 8)).kind, EventKind::pruned);
    EXPECT_EQ(by_token.at(gone.substr(0, 8)).reason, "410 Unregistered");
    EXPECT_EQ(by_token.at(down.substr(0, 8)).kind, EventKind::failed);
    EXPECT_EQ(by_token.at(down.substr(0, 8)).reason, "400 BadTopic");
    EXPECT_EQ(by_token.at(down.substr(0, 8)).group, "g");
}

}  // namespace
}  // namespace pushsync::sender::e2e
