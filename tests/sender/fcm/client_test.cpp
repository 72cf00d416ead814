// SPDX-License-Identifier: BSD-2-Clause
// FcmClient against the real simulator (tools/fcm-sim): the RS256 assertion and the access token
// it earns, the message byte for byte, the error table's verdicts, tokens that expire mid-run,
// pushes waiting for the first token, and a token endpoint that is down.
#include <gtest/gtest.h>

#include <ev.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sender/fcm/client.hpp"
#include "sender/fcm/message.hpp"
#include "tests/support/fcm_sim_fixture.hpp"
#include "tests/support/process.hpp"

namespace pushsync::sender::test {
namespace {

using Sim = pushsync::test::FcmSimFixture;
using SimOptions = pushsync::test::FcmSimOptions;

struct LoopFree {
    void operator()(struct ev_loop* loop) const { ev_loop_destroy(loop); }
};

// Drives an FcmClient on its own loop, collecting every callback.
class FcmHarness {
public:
    explicit FcmHarness(ConnectionConfig config) : loop_(ev_loop_new(EVFLAG_AUTO)) {
        config.log = [this](LogLevel level, const std::string& line) {
            log_lines.push_back(std::to_string(static_cast<int>(level)) + " " + line);
        };
        client = std::make_unique<FcmClient>(loop_.get(), std::move(config), [this](const PushResponse& response) {
            responses.push_back(response);
            ++answers_per_tag[response.tag];
        });
    }
    ~FcmHarness() { client.reset(); }

    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        ev_timer tick;  // wakes ev_run so `done` and the deadline are checked even when idle
        ev_timer_init(&tick, [](struct ev_loop*, ev_timer*, int) {}, 0.01, 0.01);
        ev_timer_start(loop_.get(), &tick);
        bool ok = true;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) {
                ok = false;
                break;
            }
            ev_run(loop_.get(), EVRUN_ONCE);
        }
        ev_timer_stop(loop_.get(), &tick);
        return ok;
    }
    bool run_until_answered(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
        return run_until([&] { return responses.size() >= count; }, timeout);
    }
    void run_for(std::chrono::milliseconds duration) { run_until([] { return false; }, duration); }

    const PushResponse* response_for(std::uint64_t tag) const {
        for (const auto& r : responses) {
            if (r.tag == tag) return &r;
        }
        return nullptr;
    }
    std::string log_text() const {
        std::string text;
        for (const auto& line : log_lines) text += line + "\n";
        return text;
    }

    std::vector<PushResponse> responses;
    std::map<std::uint64_t, int> answers_per_tag;
    std::vector<std::string> log_lines;
    std::unique_ptr<FcmClient> client;

private:
    std::unique_ptr<struct ev_loop, LoopFree> loop_;
};

std::string device_token(std::uint64_t n) { return "fcm-token:APA91b-device-" + std::to_string(n); }

ConnectionConfig fcm_config(const Sim& sim) {
    ConnectionConfig config;
    config.platform = Platform::fcm;
    config.url = sim.url();
    config.ca_file = sim.ca_file().string();
    config.auth.type = AuthType::service_account;
    config.auth.file = sim.service_account().file.string();
    config.expiration_s = 3600;
    return config;
}

PushRequest push(std::uint64_t n, const std::string& tail = "t1") {
    PushRequest request;
    request.token = device_token(n);
    request.topic = "com.example.app";
    request.tail = tail;
    request.tag = n;
    return request;
}

std::vector<nlohmann::json> entries(const nlohmann::json& log, const std::string& endpoint) {
    std::vector<nlohmann::json> out;
    for (const auto& entry : log) {
        if (entry.value("endpoint", "") == endpoint) out.push_back(entry);
    }
    return out;
}

std::string context(const FcmHarness& h, const Sim& sim) {
    return h.log_text() + pushsync::test::read_file(sim.stderr_file());
}

// No log line holds a whole device token or any access token the simulator issued.
void expect_no_secrets_in_log(const FcmHarness& h, const Sim& sim, std::uint64_t tokens) {
    const std::string text = h.log_text();
    for (std::uint64_t n = 0; n < tokens; ++n) EXPECT_EQ(text.find(device_token(n)), std::string::npos) << text;
    const auto issued = sim.access_tokens();
    std::vector<std::string> values;
    auto collect = [&](const nlohmann::json& item) {
        if (item.is_string()) values.push_back(item.get<std::string>());
        if (item.is_object()) {
            for (const char* key : {"access_token", "token", "value"}) {
                if (item.contains(key) && item[key].is_string()) values.push_back(item[key].get<std::string>());
            }
        }
    };
    if (issued.is_array()) {
        for (const auto& item : issued) collect(item);
    } else if (issued.is_object()) {
        for (auto it = issued.begin(); it != issued.end(); ++it) {
            values.push_back(it.key());
            collect(it.value());
        }
    }
    for (const auto& value : values) {
        if (value.size() >= 16) {
            EXPECT_EQ(text.find(value), std::string::npos) << value;
        }
    }
}

TEST(FcmClient, PushIsDeliveredWithTheExactBody) {
    Sim sim;
    FcmHarness h(fcm_config(sim));
    h.client->send(push(7, "abc-123"));
    EXPECT_EQ(h.client->in_flight(), 1u);
    ASSERT_TRUE(h.run_until_answered(1)) << context(h, sim);
    const PushResponse& r = h.responses.at(0);
    EXPECT_EQ(r.tag, 7u);
    EXPECT_EQ(r.status, 200) << r.reason;
    ASSERT_TRUE(r.verdict.has_value());
    EXPECT_EQ(*r.verdict, Verdict::delivered);
    EXPECT_EQ(h.client->in_flight(), 0u);
    EXPECT_FALSE(h.client->credentials_rejected());

    const auto log = sim.request_log();
    const auto tokens = entries(log, "token");
    ASSERT_EQ(tokens.size(), 1u) << log.dump();
    EXPECT_EQ(tokens.at(0).at("status"), 200) << log.dump();
    EXPECT_EQ(tokens.at(0).at("client_email"), sim.service_account().client_email);
    const auto sends = entries(log, "send");
    ASSERT_EQ(sends.size(), 1u) << log.dump();
    const auto& entry = sends.at(0);
    EXPECT_EQ(entry.at("method"), "POST");
    EXPECT_EQ(entry.at("path"), "/v1/projects/pushsync-test/messages:send");
    EXPECT_EQ(entry.at("status"), 200);
    EXPECT_EQ(entry.at("body"), fcm::message_body(device_token(7), "abc-123", AndroidPriority::high, 3600));
    EXPECT_EQ(entry.at("token"), device_token(7));
    EXPECT_EQ(entry.at("tail"), "abc-123");
    EXPECT_EQ(sim.counters().value("send_bodies_not_compact", 0), 0);
    EXPECT_EQ(h.client->stats().token_fetches, 1u);
    expect_no_secrets_in_log(h, sim, 8);
}

TEST(FcmClient, NormalPriorityAndTtlReachFcm) {
    Sim sim;
    ConnectionConfig config = fcm_config(sim);
    config.android_priority = AndroidPriority::normal;
    config.expiration_s = 120;
    FcmHarness h(config);
    h.client->send(push(1, "x"));
    ASSERT_TRUE(h.run_until_answered(1)) << context(h, sim);
    EXPECT_EQ(h.responses.at(0).status, 200) << h.responses.at(0).reason;
    const auto sends = entries(sim.request_log(), "send");
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends.at(0).at("priority"), "normal");
    EXPECT_EQ(sends.at(0).at("ttl"), "120s");
}

TEST(FcmClient, UnregisteredTokenGivesUnregisteredWithTheSendTime) {
    Sim sim;
    sim.mark_unregistered(device_token(1), 0);
    FcmHarness h(fcm_config(sim));
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    h.client->send(push(1));
    h.client->send(push(2));
    ASSERT_TRUE(h.run_until_answered(2)) << context(h, sim);
    const PushResponse* gone = h.response_for(1);
    ASSERT_NE(gone, nullptr);
    EXPECT_EQ(gone->status, 404) << gone->reason;
    ASSERT_TRUE(gone->verdict.has_value());
    EXPECT_EQ(*gone->verdict, Verdict::unregistered);
    EXPECT_GE(gone->timestamp_ms, before);
    EXPECT_NE(gone->reason.find("UNREGISTERED"), std::string::npos) << gone->reason;
    const PushResponse* fine = h.response_for(2);
    ASSERT_NE(fine, nullptr);
    EXPECT_EQ(fine->status, 200);
    EXPECT_EQ(*fine->verdict, Verdict::delivered);
}

TEST(FcmClient, InvalidAndMismatchedTokensAreRejected) {
    Sim sim;
    sim.mark_sender_id_mismatch(device_token(1));
    FcmHarness h(fcm_config(sim));
    h.client->send(push(1));
    ASSERT_TRUE(h.run_until_answered(1)) << context(h, sim);
    EXPECT_EQ(h.responses.at(0).status, 403);
    EXPECT_EQ(*h.responses.at(0).verdict, Verdict::token_rejected);
    EXPECT_FALSE(h.client->credentials_rejected());
}

TEST(FcmClient, UnavailableAndQuotaFaultsAskForARetryAfter) {
    Sim sim;
    FcmHarness h(fcm_config(sim));
    sim.add_fault({{"kind", "unavailable"}, {"retry_after_s", 7}, {"count", 1}});
    h.client->send(push(1));
    ASSERT_TRUE(h.run_until_answered(1)) << context(h, sim);
    const PushResponse& unavailable = h.responses.at(0);
    EXPECT_EQ(unavailable.status, 503) << unavailable.reason;
    ASSERT_TRUE(unavailable.verdict.has_value());
    EXPECT_EQ(*unavailable.verdict, Verdict::retry);
    EXPECT_EQ(unavailable.retry_after_ms, 7000);

    sim.add_fault({{"kind", "quota"}, {"retry_after_s", 90}, {"count", 1}});
    h.client->send(push(2));
    ASSERT_TRUE(h.run_until_answered(2)) << context(h, sim);
    const PushResponse& quota = h.responses.at(1);
    EXPECT_EQ(quota.status, 429) << quota.reason;
    EXPECT_EQ(*quota.verdict, Verdict::retry);
    EXPECT_EQ(quota.retry_after_ms, 90000);

    h.client->send(push(3));  // the faults are used up
    ASSERT_TRUE(h.run_until_answered(3)) << context(h, sim);
    EXPECT_EQ(h.responses.at(2).status, 200);
    EXPECT_FALSE(h.client->credentials_rejected());
}

TEST(FcmClient, ExpiringAccessTokensAreReplacedAndEveryPushIsDelivered) {
    SimOptions options;
    options.token_lifetime_s = 2;
    Sim sim(options);
    FcmHarness h(fcm_config(sim));
    constexpr std::uint64_t count = 24;
    for (std::uint64_t n = 0; n < count; ++n) {
        h.client->send(push(n));
        h.run_for(std::chrono::milliseconds(200));
    }
    ASSERT_TRUE(h.run_until_answered(count)) << context(h, sim);
    for (std::uint64_t n = 0; n < count; ++n) {
        EXPECT_EQ(h.answers_per_tag[n], 1) << n;
        const PushResponse* r = h.response_for(n);
        ASSERT_NE(r, nullptr);
        EXPECT_EQ(r->status, 200) << n << " " << r->reason;
    }
    const auto log = sim.request_log();
    const auto tokens = entries(log, "token");
    EXPECT_GE(tokens.size(), 2u) << log.dump();
    EXPECT_GE(h.client->stats().token_fetches, 2u);
    expect_no_secrets_in_log(h, sim, count);
}

TEST(FcmClient, AnExpiredTokenIsRefreshedAndThePushSentAgain) {
    Sim sim;
    FcmHarness h(fcm_config(sim));
    h.client->send(push(1));
    ASSERT_TRUE(h.run_until_answered(1)) << context(h, sim);
    sim.expire_access_tokens();
    h.client->send(push(2));
    ASSERT_TRUE(h.run_until_answered(2)) << context(h, sim);
    const PushResponse* r = h.response_for(2);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->status, 200) << r->reason << context(h, sim);
    EXPECT_EQ(h.answers_per_tag[2], 1);
    EXPECT_EQ(h.client->stats().unauthorized, 1u);
    EXPECT_EQ(h.client->stats().token_fetches, 2u);
    EXPECT_FALSE(h.client->credentials_rejected());
}

TEST(FcmClient, PushesSentBeforeAnyTokenWaitAndAreDelivered) {
    Sim sim;
    // The token endpoint answers slowly, so every push is queued before a token exists.
    sim.add_fault({{"kind", "delay"}, {"on", "token"}, {"delay_ms", 600}, {"count", 1}});
    FcmHarness h(fcm_config(sim));
    constexpr std::uint64_t count = 5;
    for (std::uint64_t n = 0; n < count; ++n) h.client->send(push(n));
    h.run_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(h.responses.empty());
    EXPECT_EQ(h.client->in_flight(), count);
    ASSERT_TRUE(h.run_until_answered(count)) << context(h, sim);
    for (const auto& r : h.responses) EXPECT_EQ(r.status, 200) << r.tag << " " << r.reason;
    const auto log = sim.request_log();
    ASSERT_FALSE(log.empty());
    EXPECT_EQ(log.at(0).at("endpoint"), "token") << log.dump();
    EXPECT_EQ(entries(log, "token").size(), 1u) << log.dump();
    EXPECT_EQ(entries(log, "send").size(), count) << log.dump();
}

TEST(FcmClient, ATokenEndpointThatIsDownFailsNoPushBeforeItsTimeout) {
    Sim sim;
    sim.add_fault({{"kind", "token_down"}, {"count", -1}});
    ConnectionConfig config = fcm_config(sim);
    config.request_timeout_ms = 2000;
    FcmHarness h(config);
    const auto start = std::chrono::steady_clock::now();
    h.client->send(push(1));
    h.client->send(push(2));
    ASSERT_TRUE(h.run_until_answered(2)) << context(h, sim);
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, std::chrono::milliseconds(1900));
    for (const auto& r : h.responses) {
        EXPECT_EQ(r.status, 0);
        EXPECT_EQ(r.reason, "Timeout");
        ASSERT_TRUE(r.verdict.has_value());
        EXPECT_EQ(*r.verdict, Verdict::retry);
    }
    EXPECT_GE(h.client->stats().token_fetch_failures, 2u);  // retried with backoff meanwhile
    EXPECT_TRUE(entries(sim.request_log(), "send").empty());
    EXPECT_FALSE(h.client->credentials_rejected());  // down is not refused

    // The endpoint comes back: the next fetch (backing off 1 s, 2 s, ...) brings a token.
    sim.clear_faults();
    h.client->send(push(3));
    ASSERT_TRUE(h.run_until_answered(3)) << context(h, sim);
    EXPECT_EQ(h.response_for(3)->status, 200) << h.response_for(3)->reason << context(h, sim);
}

TEST(FcmClient, ARefusedServiceAccountIsReportedAndItsPushesWait) {
    Sim sim;
    // The same account with another key id: the simulator answers invalid_grant.
    auto account = nlohmann::json::parse(pushsync::test::read_file(sim.service_account().file));
    account["private_key_id"] = "0000000000000000000000000000000000000000";
    const auto file = sim.dir() / "refused.json";
    pushsync::test::write_file(file, account.dump());
    ConnectionConfig config = fcm_config(sim);
    config.auth.file = file.string();
    config.request_timeout_ms = 1500;
    FcmHarness h(config);
    h.client->send(push(1));
    ASSERT_TRUE(h.run_until_answered(1)) << context(h, sim);
    EXPECT_EQ(h.responses.at(0).status, 0);
    EXPECT_EQ(h.responses.at(0).reason, "Timeout");
    EXPECT_TRUE(h.client->credentials_rejected());
    EXPECT_NE(h.log_text().find("refused the service account"), std::string::npos) << h.log_text();
    EXPECT_TRUE(entries(sim.request_log(), "send").empty());
}

TEST(FcmClient, GoawayResendsTheUnprocessedOnANewConnection) {
    Sim sim;
    FcmHarness h(fcm_config(sim));
    h.client->send(push(100));  // the connection and its token first
    ASSERT_TRUE(h.run_until_answered(1)) << context(h, sim);
    sim.add_fault({{"kind", "goaway"}, {"count", 1}});
    constexpr std::uint64_t count = 10;
    for (std::uint64_t n = 0; n < count; ++n) h.client->send(push(n));
    ASSERT_TRUE(h.run_until_answered(count + 1)) << context(h, sim);
    for (std::uint64_t n = 0; n < count; ++n) {
        EXPECT_EQ(h.answers_per_tag[n], 1) << n;
        const PushResponse* r = h.response_for(n);
        ASSERT_NE(r, nullptr);
        EXPECT_EQ(r->status, 200) << n << " " << r->reason;
    }
    EXPECT_EQ(h.client->stats().goaways, 1u);
    EXPECT_GE(h.client->stats().resent, 1u);
    EXPECT_GE(h.client->stats().connects, 2u);
}

TEST(FcmClient, ASilentServerTimesOutAndTheNextPushIsDelivered) {
    Sim sim;
    ConnectionConfig config = fcm_config(sim);
    config.request_timeout_ms = 1000;
    FcmHarness h(config);
    sim.add_fault({{"kind", "silence"}, {"count", 1}});
    h.client->send(push(1));
    ASSERT_TRUE(h.run_until_answered(1)) << context(h, sim);
    EXPECT_EQ(h.responses.at(0).status, 0);
    EXPECT_EQ(h.responses.at(0).reason, "Timeout");
    EXPECT_EQ(*h.responses.at(0).verdict, Verdict::retry);
    h.client->send(push(2));
    ASSERT_TRUE(h.run_until_answered(2)) << context(h, sim);
    EXPECT_EQ(h.responses.at(1).status, 200) << h.responses.at(1).reason;
    EXPECT_EQ(h.client->stats().timeouts, 1u);
}

TEST(FcmClient, StreamsPerConnectionStayWithinMaxStreams) {
    Sim sim;
    ConnectionConfig config = fcm_config(sim);
    config.max_streams = 3;
    FcmHarness h(config);
    constexpr std::uint64_t count = 30;
    for (std::uint64_t n = 0; n < count; ++n) h.client->send(push(n));
    ASSERT_TRUE(h.run_until_answered(count)) << context(h, sim);
    for (const auto& r : h.responses) EXPECT_EQ(r.status, 200) << r.reason;
    EXPECT_LE(h.client->stats().max_open_streams, 3u);
    EXPECT_GE(h.client->stats().max_open_streams, 2u);
}

TEST(FcmClient, ShutdownEndsTheLoop) {
    Sim sim;
    FcmHarness h(fcm_config(sim));
    h.client->send(push(1));
    ASSERT_TRUE(h.run_until_answered(1)) << context(h, sim);
    h.client->shutdown(2000);
    ASSERT_TRUE(h.run_until([&] { return h.client->drained(); }, std::chrono::seconds(5))) << context(h, sim);
}

TEST(FcmClient, AMissingServiceAccountFileIsNamed) {
    ConnectionConfig config;
    config.platform = Platform::fcm;
    config.url = "https://127.0.0.1:1";
    config.auth.type = AuthType::service_account;
    config.auth.file = "/nonexistent/sa.json";
    try {
        FcmHarness h(config);
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/sa.json"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace pushsync::sender::test
