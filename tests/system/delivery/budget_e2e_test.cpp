// SPDX-License-Identifier: BSD-2-Clause
// delivery.device_min_interval_s end to end: real nginx + module, the
// real pushsync-sender binary, apns-sim. Times are the simulator's arrival times; the test asserts
// order, contents and a generous lower bound, never a tight time.
#include <gtest/gtest.h>

#include <csignal>
#include <optional>
#include <thread>

#include "shared/store/store.hpp"
#include "tests/system/delivery/e2e.hpp"

namespace pushsync::sender::e2e {
namespace {

Stack::Options budget_options() {
    Stack::Options o;
    o.delivery = "  coalesce_ms: 0\n  device_min_interval_s: 2\n";
    return o;
}

std::unique_ptr<Store> read_store(const Stack& s) {
    StoreOptions options;
    options.path = s.nginx.store_path().string();
    options.read_only = true;
    return std::make_unique<Store>(options);
}

// The tail of the push waiting for `token` in the store, or "" when none waits.
std::string held_tail(const Stack& s, const std::string& token) {
    for (const HeldPush& held : read_store(s)->held_pushes(100)) {
        if (held.token == token) return held.tail;
    }
    return "";
}

// T1 from `a` reaches `b` at once; T2 and T3 follow half a second apart, inside b's 2 s budget.
void notify_three(Stack& s, const std::string& a, const std::string& b) {
    s.notify("g", "T1", a);
    ASSERT_TRUE(wait_until([&] { return s.delivered_to(b) == 1; })) << read_file(s.sender_log());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    s.notify("g", "T2", a);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    s.notify("g", "T3", a);
}

void expect_t1_then_t3_two_seconds_later(const Stack& s, const std::string& b) {
    ASSERT_TRUE(wait_until([&] { return s.delivered_to(b) >= 2; }, std::chrono::seconds(20)))
        << read_file(s.sender_log());
    // Nothing else is owed to b: no push waits in the store, the outbox is empty.
    ASSERT_TRUE(wait_until([&] { return read_store(s)->held_count() == 0; }));
    ASSERT_TRUE(s.wait_outbox_empty());
    const auto pushes = s.requests_for(b);
    ASSERT_EQ(pushes.size(), 2u) << read_file(s.sender_log());
    EXPECT_EQ(pushes[0]["payload"], R"({"aps":{"content-available":1},"tail":"T1"})");
    EXPECT_EQ(pushes[1]["payload"], R"({"aps":{"content-available":1},"tail":"T3"})");
    const std::int64_t gap_ms = pushes[1]["time_ms"].get<std::int64_t>() - pushes[0]["time_ms"].get<std::int64_t>();
    EXPECT_GE(gap_ms, 1800) << "T3 went before b's budget allowed";
}

TEST(SenderBudgetE2E, ThreeNotifiesHalfASecondApartGiveTheNewestTailOnceTheIntervalHasPassed) {
    Stack s(budget_options());
    const std::string a = token(1), b = token(2);
    for (const auto& t : {a, b}) s.register_device("g", t);
    notify_three(s, a, b);
    expect_t1_then_t3_two_seconds_later(s, b);
    EXPECT_EQ(s.requests_for(a).size(), 0u);  // the origin of every notify
    const std::string log = read_file(s.sender_log());
    EXPECT_NE(log.find("push.held group=g token=" + b.substr(0, 8) + " tail=T2"), std::string::npos) << log;
    EXPECT_NE(log.find("push.hold_renewed group=g token=" + b.substr(0, 8) + " tail=T3"), std::string::npos) << log;
}

TEST(SenderBudgetE2E, ASenderKilledWhilePushesWaitDeliversTheNewestTailAfterRestartAtTheRightTime) {
    Stack s(budget_options());
    const std::string a = token(1), b = token(2);
    for (const auto& t : {a, b}) s.register_device("g", t);
    notify_three(s, a, b);
    // T3 waits in the store (and its notify may have left the outbox): kill the sender now.
    ASSERT_TRUE(wait_until([&] { return held_tail(s, b) == "T3"; })) << read_file(s.sender_log());
    ASSERT_EQ(s.delivered_to(b), 1u) << "T3 went before the kill; the test proves nothing";
    // pushsyncctl shows the waiting push and when it may go.
    const auto shown = run({(binary_dir() / "cli" / "pushsyncctl").string(), "--config",
                            s.nginx.config_path().string(), "device", b, "--json"});
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    const auto device = nlohmann::json::parse(shown.out);
    EXPECT_EQ(device["budget"]["interval_s"], 2);
    EXPECT_EQ(device["budget"]["waiting"]["tail"], "T3");
    EXPECT_NE(device["budget"]["next_push_from"], "now");
    const auto stats = run({(binary_dir() / "cli" / "pushsyncctl").string(), "--config", s.nginx.config_path().string(),
                            "stats", "--json"});
    EXPECT_EQ(nlohmann::json::parse(stats.out)["waiting_pushes"], 1) << stats.out;
    s.sender.kill_and_wait(SIGKILL);
    s.start_sender();
    expect_t1_then_t3_two_seconds_later(s, b);
    const std::string log = read_file(s.sender_log());
    EXPECT_NE(log.find("holds.recovered waiting=1"), std::string::npos) << log;
}

// The hold figures as nginx's status and metrics endpoints show them, when both agree.
struct HoldFigures {
    double held = -1, merged = -1, released = -1, dropped = -1, waiting = -1;
    bool operator==(const HoldFigures&) const = default;
};

std::optional<HoldFigures> shown_hold_figures(Stack& s) {
    const auto status = s.nginx.request("GET", "/pushsync/status");
    const auto metrics = s.nginx.request("GET", "/pushsync/metrics");
    if (status.status != 200 || metrics.status != 200) return std::nullopt;
    const auto doc = nlohmann::json::parse(status.body);
    if (!doc["counters"].contains("pushes_held") || !doc["sender"].contains("waiting_pushes")) return std::nullopt;
    const HoldFigures from_status{doc["counters"]["pushes_held"].get<double>(),
                                  doc["counters"]["pushes_merged"].get<double>(),
                                  doc["counters"]["pushes_released"].get<double>(),
                                  doc["counters"]["held_pushes_dropped"].get<double>(),
                                  doc["sender"]["waiting_pushes"].get<double>()};
    auto page = samples(metrics.body);
    const HoldFigures from_metrics{page["pushsync_pushes_held_total"], page["pushsync_pushes_merged_total"],
                                   page["pushsync_pushes_released_total"], page["pushsync_held_pushes_dropped_total"],
                                   page["pushsync_waiting_pushes"]};
    if (!(from_status == from_metrics)) return std::nullopt;
    return from_status;
}

std::string describe(Stack& s) {
    return s.nginx.request("GET", "/pushsync/status").body + "\n" + read_file(s.sender_log());
}

TEST(SenderBudgetE2E, StatusAndMetricsCountTheWaitingPushesAndTheGaugeReturnsToZeroAfterRelease) {
    Stack::Options o;
    o.delivery = "  coalesce_ms: 0\n  device_min_interval_s: 3\n";
    Stack s(o);
    const std::string a = token(1), b = token(2), c = token(3);
    for (const auto& t : {a, b, c}) s.register_device("g", t);
    ASSERT_TRUE(wait_until([&] { return shown_hold_figures(s) == HoldFigures{0, 0, 0, 0, 0}; })) << describe(s);

    s.notify("g", "T1", a);  // b and c at once
    ASSERT_TRUE(wait_until([&] { return s.delivered_to(b) == 1 && s.delivered_to(c) == 1; })) << describe(s);
    s.notify("g", "T2", a);  // b's and c's pushes wait: two held, two waiting
    ASSERT_TRUE(wait_until([&] { return shown_hold_figures(s) == HoldFigures{2, 0, 0, 0, 2}; })) << describe(s);
    s.notify("g", "T3", a);  // joins both waiting pushes
    ASSERT_TRUE(wait_until([&] { return shown_hold_figures(s) == HoldFigures{2, 2, 0, 0, 2}; })) << describe(s);
    ASSERT_EQ(s.delivered_to(b), 1u) << "a waiting push went before its device's budget allowed";

    // Released when due: the gauge is back to 0, each device got T3 as its second push.
    ASSERT_TRUE(wait_until([&] { return shown_hold_figures(s) == HoldFigures{2, 2, 2, 0, 0}; },
                           std::chrono::seconds(20)))
        << describe(s);
    ASSERT_TRUE(wait_until([&] { return s.delivered_to(b) == 2 && s.delivered_to(c) == 2; })) << describe(s);
    EXPECT_EQ(s.requests_for(b).back()["payload"], R"({"aps":{"content-available":1},"tail":"T3"})");
    EXPECT_EQ(s.requests_for(c).back()["payload"], R"({"aps":{"content-available":1},"tail":"T3"})");
}

TEST(SenderBudgetE2E, ADevicePushedLongerThanTheIntervalAgoIsPushedAtOnce) {
    Stack::Options o;
    o.delivery = "  coalesce_ms: 0\n  device_min_interval_s: 1\n";
    Stack s(o);
    const std::string a = token(1), b = token(2);
    for (const auto& t : {a, b}) s.register_device("g", t);
    s.notify("g", "T1", a);
    ASSERT_TRUE(wait_until([&] { return s.delivered_to(b) == 1; })) << read_file(s.sender_log());
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    s.notify("g", "T2", a);
    ASSERT_TRUE(wait_until([&] { return s.delivered_to(b) == 2; })) << read_file(s.sender_log());
    EXPECT_EQ(read_file(s.sender_log()).find("push.held "), std::string::npos);
}

}  // namespace
}  // namespace pushsync::sender::e2e
