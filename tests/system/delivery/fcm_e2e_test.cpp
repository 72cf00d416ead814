// SPDX-License-Identifier: BSD-2-Clause
// Android devices end to end: nginx + module, the real sender, apns-sim and fcm-sim
// together. A group mixing iOS and Android devices gets one push per device but the origin, each
// on its platform with the contract's exact body; FCM's UNREGISTERED prunes; 503 with
// retry-after is retried and delivered; an access token that expires mid-run is replaced.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "tests/system/delivery/e2e.hpp"

namespace pushsync::sender::e2e {
namespace {

using namespace std::chrono_literals;

// FCM registration tokens as Android hands them out: an instance id, ':', then opaque text.
std::string android_token(int i) { return "fDev" + std::to_string(i) + "xQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx_" + std::string(60, 'k'); }

std::string fcm_body(const std::string& token, const std::string& tail) {
    return R"({"message":{"token":")" + token + R"(","data":{"tail":")" + tail +
           R"("},"android":{"priority":"high","ttl":"3600s","collapse_key":"pushsync"}}})";
}

Stack::Options with_fcm() {
    Stack::Options o;
    o.fcm = true;
    o.delivery += "  expiration_s: 3600\n";
    return o;
}

TEST(FcmE2E, AMixedGroupGetsOnePushPerDeviceButTheOriginEachOnItsPlatformWithTheExactBody) {
    Stack s(with_fcm());
    const std::string ios1 = token(1), ios2 = token(2);
    const std::string android1 = android_token(1), android2 = android_token(2);
    s.register_device("family", ios1);
    s.register_device("family", ios2);
    s.register_fcm_device("family", android1);
    s.register_fcm_device("family", android2);

    s.notify("family", "T-1", ios1);
    ASSERT_TRUE(s.wait_outbox_empty());
    ASSERT_TRUE(wait_until([&] { return s.fcm_delivered_to(android1) + s.fcm_delivered_to(android2) == 2; }));
    EXPECT_EQ(s.requests_for(ios1).size(), 0u);
    EXPECT_EQ(s.delivered_to(ios2), 1u);
    EXPECT_EQ(s.requests_for(android1).size(), 0u);  // apns-sim never sees an FCM token
    const auto sends = s.fcm_sends();
    ASSERT_EQ(sends.size(), 2u);
    for (const auto& e : sends) {
        const std::string to = e.value("token", "");
        EXPECT_TRUE(to == android1 || to == android2) << e.dump();
        EXPECT_EQ(e.value("body", ""), fcm_body(to, "T-1")) << e.dump();
        EXPECT_EQ(e.value("path", ""), "/v1/projects/" + s.fcm_sim->service_account().project_id + "/messages:send");
        EXPECT_EQ(e.value("status", 0), 200) << e.dump();
    }

    // From an Android device: both iOS devices and the other Android one.
    s.notify("family", "T-2", android1);
    ASSERT_TRUE(s.wait_outbox_empty());
    ASSERT_TRUE(wait_until([&] { return s.fcm_delivered_to(android2) == 2; }));
    EXPECT_EQ(s.delivered_to(ios1), 1u);
    EXPECT_EQ(s.delivered_to(ios2), 2u);
    EXPECT_EQ(s.fcm_delivered_to(android1), 1u);
    EXPECT_EQ(s.fcm_sends().size(), 3u);
    EXPECT_EQ(s.fcm_sends().back().value("body", ""), fcm_body(android2, "T-2"));
}

TEST(FcmE2E, UnregisteredPrunesTheAndroidDeviceAndOnlyIt) {
    Stack::Options o = with_fcm();
    o.nginx_server_extra = "location /full/ { pushsync_api; pushsync_list_tokens on; }";
    Stack s(o);
    const std::string ios = token(1), kept = android_token(1), gone = android_token(2);
    s.register_device("g", ios);
    s.register_fcm_device("g", kept);
    s.register_fcm_device("g", gone);
    s.fcm_sim->mark_unregistered_now(gone);
    s.notify("g", "T-1", ios);
    ASSERT_TRUE(s.wait_outbox_empty());
    ASSERT_TRUE(wait_until([&] {
        const auto group = nlohmann::json::parse(s.nginx.request("GET", "/full/groups/g/devices").body, nullptr, false);
        return group.is_object() && group["devices"].size() == 2;
    }));
    const auto group = nlohmann::json::parse(s.nginx.request("GET", "/full/groups/g/devices").body);
    std::set<std::string> left;
    for (const auto& d : group["devices"]) left.insert(d["token"]);
    EXPECT_EQ(left, (std::set<std::string>{ios, kept}));
    EXPECT_EQ(s.fcm_delivered_to(kept), 1u);
    EXPECT_EQ(s.counter(Counter::tokens_pruned), 1u);
}

TEST(FcmE2E, ServiceUnavailableWithRetryAfterIsRetriedAndDelivered) {
    Stack s(with_fcm());
    const std::string ios = token(1), android = android_token(1);
    s.register_device("g", ios);
    s.register_fcm_device("g", android);
    s.fcm_sim->add_fault({{"kind", "unavailable"}, {"retry_after_s", 1}, {"count", 1}});
    const auto started = std::chrono::steady_clock::now();
    s.notify("g", "T-1", ios);
    ASSERT_TRUE(wait_until([&] { return s.fcm_delivered_to(android) == 1; }, 15s));
    const auto sends = s.fcm_sends();
    ASSERT_EQ(sends.size(), 2u);
    EXPECT_EQ(sends[0].value("status", 0), 503);
    EXPECT_EQ(sends[1].value("status", 0), 200);
    // Not before the retry-after the service asked for.
    EXPECT_GE(sends[1].value("time_ms", std::int64_t{0}) - sends[0].value("time_ms", std::int64_t{0}), 950);
    EXPECT_GE(std::chrono::steady_clock::now() - started, 950ms);
    ASSERT_TRUE(s.wait_outbox_empty());
}

TEST(FcmE2E, AnAccessTokenThatExpiresMidRunIsReplacedAndNothingIsLost) {
    Stack::Options o = with_fcm();
    o.fcm_options.token_lifetime_s = 2;
    Stack s(o);
    const std::string ios = token(1), android = android_token(1);
    s.register_device("g", ios);
    s.register_fcm_device("g", android);
    s.notify("g", "T-1", ios);
    ASSERT_TRUE(wait_until([&] { return s.fcm_delivered_to(android) == 1; }));
    std::this_thread::sleep_for(2500ms);  // the first token has ended
    s.notify("g", "T-2", ios);
    ASSERT_TRUE(wait_until([&] { return s.fcm_delivered_to(android) == 2; }));
    // Revoked early, as Google may: a 401, a new token, the push sent again.
    s.fcm_sim->expire_access_tokens();
    s.notify("g", "T-3", ios);
    ASSERT_TRUE(wait_until([&] { return s.fcm_delivered_to(android) == 3; }, 15s));
    ASSERT_TRUE(s.wait_outbox_empty());
    EXPECT_GE(s.fcm_sim->counters().value("tokens_issued", 0), 2);
    EXPECT_EQ(s.fcm_sends().back().value("body", ""), fcm_body(android, "T-3"));
    // The operator sees the fetches, none failed, and FCM's answers under FCM's own family.
    const auto page = samples(s.nginx.request("GET", "/pushsync/metrics").body);
    EXPECT_GE(page.at("pushsync_fcm_token_fetches_total"), 3);
    EXPECT_EQ(page.at("pushsync_fcm_token_fetch_failures_total"), 0);
    EXPECT_EQ(page.at(R"(pushsync_fcm_responses_total{bundle_id="com.example.app",status="200",reason=""})"), 3);
}

// Killed while FCM holds the push unanswered: the restarted sender sends it again (at least once).
TEST(FcmE2E, ASenderKilledWithFcmPushesOnTheWireLosesNothing) {
    Stack s(with_fcm());
    const std::string ios = token(1), android = android_token(1);
    s.register_device("g", ios);
    s.register_fcm_device("g", android);
    s.fcm_sim->add_fault({{"kind", "delay"}, {"delay_ms", 4000}, {"count", 1}});
    s.notify("g", "T-1", ios);
    // On the wire and unanswered: the sim has the stream, the sender has stored the notify.
    ASSERT_TRUE(wait_until([&] { return s.fcm_sim->counters().value("faults_delay", 0) >= 1; }));
    std::this_thread::sleep_for(300ms);  // past the consumer's store delay
    s.sender.kill_and_wait(SIGKILL);
    s.start_sender();
    // The stream the killed sender left unanswered is never logged as answered; the restarted
    // sender's send of the recovered push is.
    ASSERT_TRUE(wait_until([&] { return s.fcm_delivered_to(android) == 1; }, 15s))
        << nlohmann::json(s.fcm_sends()).dump() << "\n"
        << read_file(s.sender_log());
    ASSERT_TRUE(s.wait_outbox_empty());
}

// A service account file the sender cannot use stops it at start: exit status 2 and one line
// naming pushsync.yaml's line, the file and the problem.
TEST(FcmE2E, ABadServiceAccountFileStopsTheSenderWithOneLine) {
    TempDir dir;
    Stack::Options o = with_fcm();
    o.start_sender = false;
    Stack s(o);
    const auto account = dir.path() / "fcm-account.json";
    write_file(account, R"({"type":"service_account","project_id":"p"})");
    std::string yaml = read_file(s.nginx.config_path());
    const std::string real = s.fcm_sim->service_account().file.string();
    yaml.replace(yaml.find(real), real.size(), account.string());
    write_file(s.nginx.config_path(), yaml);
    const auto log = dir.path() / "sender.log";
    Process sender = Process::spawn({Stack::sender_binary().string(), "--config", s.nginx.config_path().string()}, log);
    EXPECT_EQ(sender.wait(std::chrono::seconds(10)), 2);
    const std::string text = read_file(log);
    EXPECT_NE(text.find(s.nginx.config_path().string() + ":"), std::string::npos) << text;
    EXPECT_NE(text.find(": apps[1].auth.file: " + account.string() + ": private_key_id: missing"), std::string::npos)
        << text;
}

}  // namespace
}  // namespace pushsync::sender::e2e
