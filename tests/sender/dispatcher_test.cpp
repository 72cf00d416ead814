// SPDX-License-Identifier: BSD-2-Clause
// Dispatch and classification against a fake transport, with a real store and queue counters.
#include <gtest/gtest.h>

#include <map>

#include "sender/dispatch/dispatcher.hpp"
#include "tests/sender/fakes.hpp"
#include "tests/sender/harness.hpp"

namespace pushsync::sender {
namespace {

struct DispatcherTest : ::testing::Test {
    test::Harness h;
    test::FakeClock clock;
    test::FakeRandom random;  // 0.5: every delay is 3/4 of its cap
    TimerQueue timers{clock};
    Backoff backoff{100, 1000, random};
    Dedupe dedupe{*h.store};
    std::vector<std::string> lines;
    Logger log{LogLevel::debug, [this](std::string_view line) { lines.emplace_back(line); }};
    std::map<Counter, std::uint64_t> counters;
    std::vector<std::pair<Push, Outcome>> finished;
    test::FakeTransports transports;
    DispatchSettings settings{3600, 4, 60000};
    std::vector<ConnectionConfig> connections{ConnectionConfig{}, ConnectionConfig{}};
    std::unique_ptr<Dispatcher> dispatcher = std::make_unique<Dispatcher>(
        Dispatcher::Deps{*h.store, dedupe, timers, backoff, log,
                         [this](Counter c, std::uint64_t n) { counters[c] += n; },
                         [this](const Push& p, Outcome o) { finished.emplace_back(p, o); }},
        settings, connections, transports.factory());

    test::FakeTransport& wire(std::size_t i = 0) { return *transports.all.at(i); }
    Push push(const char* token, std::string tail, std::uint64_t round = 1, std::size_t connection = 0,
              Environment env = Environment::production) {
        return Push{round, "g", std::move(tail), Target{token, "com.example.app", env, connection}};
    }
    void advance(std::int64_t ms) {
        clock.now += ms;
        timers.run_due();
    }
    bool logged(std::string_view needle) const {
        for (const auto& l : lines)
            if (l.find(needle) != std::string::npos) return true;
        return false;
    }
};

TEST_F(DispatcherTest, A200IsRecordedCountedAndLoggedWithTheApnsId) {
    dispatcher->submit(push(test::token_a, "T1"));
    ASSERT_EQ(wire().waiting.size(), 1u);
    const PushRequest& sent = wire().waiting.front();
    EXPECT_EQ(sent.token, test::token_a);
    EXPECT_EQ(sent.topic, "com.example.app");
    EXPECT_EQ(sent.payload, R"({"aps":{"content-available":1},"tail":"T1"})");
    EXPECT_EQ(sent.expiration_unix_s, clock.unix_ms() / 1000 + 3600);
    wire().answer(200);
    ASSERT_EQ(finished.size(), 1u);
    EXPECT_EQ(finished[0].second, Outcome::delivered);
    EXPECT_EQ(counters[Counter::pushes_sent], 1u);
    EXPECT_TRUE(logged("push.sent group=g token=aaaaaaaa tail=T1 apns-id=00000000-0000-0000-0000-"));
    dedupe.flush();
    EXPECT_EQ(h.store->last_sent_tail(test::token_a), "T1");
    EXPECT_EQ(dispatcher->devices_busy(), 0u);
}

TEST_F(DispatcherTest, AReasonFromApnsIsEscapedInTheLogLine) {
    dispatcher->submit(push(test::token_a, "T1"));
    wire().answer(400, "BadDeviceToken\n2026-11-30T00:00:00.000Z error forged \x1b[2J");
    ASSERT_FALSE(lines.empty());
    for (const auto& l : lines) {
        EXPECT_EQ(l.find('\n'), std::string::npos) << l;
        EXPECT_EQ(l.find('\x1b'), std::string::npos) << l;
    }
    EXPECT_TRUE(logged(R"(reason="BadDeviceToken\x0a2026-11-30T00:00:00.000Z error forged \x1b[2J")"));
}

TEST_F(DispatcherTest, AConnectionTakesAWindowOfDevicesAndTheRestWaitInOrder) {
    settings.window_per_connection = 2;
    dispatcher = std::make_unique<Dispatcher>(
        Dispatcher::Deps{*h.store, dedupe, timers, backoff, log, {},
                         [this](const Push& p, Outcome o) { finished.emplace_back(p, o); }},
        settings, connections, transports.factory());
    std::vector<Push> pushes;
    for (const char* token : {test::token_a, test::token_b, test::token_c, test::token_d}) pushes.push_back(push(token, "T1"));
    pushes.push_back(push(test::token_a, "T2"));
    dispatcher->submit(std::move(pushes));
    test::FakeTransport& wire = *transports.all.at(2);  // the first two belong to the fixture's dispatcher
    ASSERT_EQ(wire.waiting.size(), 2u);
    EXPECT_EQ(dispatcher->backlog(), 3u);
    EXPECT_FALSE(dispatcher->has_room(0));
    EXPECT_TRUE(dispatcher->has_room(1));
    EXPECT_EQ(wire.answer(200).token, test::token_a);
    EXPECT_EQ(wire.waiting.size(), 1u);  // the room is used at the next pump(), not per answer
    dispatcher->pump();
    ASSERT_EQ(wire.waiting.size(), 2u);
    EXPECT_EQ(wire.waiting.back().token, test::token_c);
    // Another connection is not held up by this one's backlog.
    dispatcher->submit(push("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "T9", 1, 1));
    EXPECT_EQ(transports.all.at(3)->waiting.size(), 1u);
    for (std::string expected : {test::token_b, test::token_c, test::token_d}) {
        EXPECT_EQ(wire.answer(200).token, expected);
        dispatcher->pump();
    }
    EXPECT_EQ(wire.waiting.front().payload, silent_payload("T2"));  // a's second push, in submit order
    EXPECT_EQ(dispatcher->backlog(), 0u);
}

TEST_F(DispatcherTest, TheSameTailIsNotSentTwiceToADevice) {
    dedupe.record(test::token_a, "T1");
    dispatcher->submit(push(test::token_a, "T1"));
    EXPECT_EQ(wire().sent, 0u);
    ASSERT_EQ(finished.size(), 1u);
    EXPECT_EQ(finished[0].second, Outcome::duplicate);
}

TEST_F(DispatcherTest, ThreeServiceUnavailableThenOkIsDeliveredOnceAfterBackingOff) {
    dispatcher->submit(push(test::token_a, "T1"));
    const std::int64_t expected_delays[] = {75, 150, 300};  // caps 100, 200, 400, jitter 0.5
    for (const std::int64_t delay : expected_delays) {
        wire().answer(503, "ServiceUnavailable");
        EXPECT_TRUE(wire().waiting.empty());
        advance(delay - 1);
        EXPECT_TRUE(wire().waiting.empty()) << "resent before its backoff";
        advance(1);
        ASSERT_EQ(wire().waiting.size(), 1u);
    }
    wire().answer(200);
    EXPECT_EQ(wire().sent, 4u);
    EXPECT_EQ(counters[Counter::pushes_sent], 1u);
    EXPECT_EQ(counters[Counter::pushes_failed], 0u);
    ASSERT_EQ(finished.size(), 1u);
    EXPECT_EQ(finished[0].second, Outcome::delivered);
    EXPECT_EQ(dispatcher->stats().retries, 3u);
}

TEST_F(DispatcherTest, RetryableFailuresStopAtMaxAttemptsAndCountAsFailed) {
    dispatcher->submit(push(test::token_a, "T1"));
    for (int i = 0; i < 3; ++i) {
        wire().answer(0, "Timeout");
        advance(10000);
    }
    wire().answer(429, "TooManyRequests");
    advance(10000);
    EXPECT_EQ(wire().sent, 4u);  // max_attempts
    EXPECT_TRUE(wire().waiting.empty());
    EXPECT_EQ(counters[Counter::pushes_failed], 1u);
    ASSERT_EQ(finished.size(), 1u);
    EXPECT_EQ(finished[0].second, Outcome::failed);
}

TEST_F(DispatcherTest, ANonRetryable400IsTriedOnceAndFailed) {
    dispatcher->submit(push(test::token_a, "T1"));
    wire().answer(400, "BadTopic");
    advance(100000);
    EXPECT_EQ(wire().sent, 1u);
    EXPECT_EQ(counters[Counter::pushes_failed], 1u);
    EXPECT_TRUE(logged("push.failed group=g token=aaaaaaaa"));
    dispatcher->submit(push(test::token_b, "T1"));
    wire().answer(413, "PayloadTooLarge");
    advance(100000);
    EXPECT_EQ(wire().sent, 2u);
    EXPECT_EQ(counters[Counter::pushes_failed], 2u);
}

TEST_F(DispatcherTest, Unregistered410PrunesUnlessRegisteredAgainAfterTheTimestamp) {
    h.add(test::token_a, "g", "com.example.app", Environment::production, 1000);
    h.add(test::token_b, "g", "com.example.app", Environment::production, 1000);
    h.add(test::token_b, "g", "com.example.app", Environment::production, 5000);  // seen again
    dispatcher->submit(push(test::token_a, "T1"));
    dispatcher->submit(push(test::token_b, "T1"));
    wire().answer(410, "Unregistered", 3000);
    wire().answer(410, "Unregistered", 3000);
    EXPECT_FALSE(h.store->get_device(test::token_a));
    EXPECT_TRUE(h.store->get_device(test::token_b));
    EXPECT_EQ(counters[Counter::tokens_pruned], 1u);
    EXPECT_EQ(wire().sent, 2u);
    ASSERT_EQ(finished.size(), 2u);
    EXPECT_EQ(finished[0].second, Outcome::pruned);
    EXPECT_TRUE(logged("prune=kept_reregistered"));
}

TEST_F(DispatcherTest, BadDeviceTokenPrunesOnlyForTheEnvironmentThatSaidSo) {
    h.add(test::token_a, "g", "com.example.app", Environment::sandbox);
    h.add(test::token_b, "g", "com.example.app", Environment::production);
    dispatcher->submit(push(test::token_a, "T1", 1, 0, Environment::production));  // stale: now sandbox
    dispatcher->submit(push(test::token_b, "T1", 1, 0, Environment::production));
    wire().answer(400, "BadDeviceToken");
    wire().answer(400, "DeviceTokenNotForTopic");
    EXPECT_TRUE(h.store->get_device(test::token_a));
    EXPECT_FALSE(h.store->get_device(test::token_b));
    EXPECT_EQ(counters[Counter::tokens_pruned], 1u);
    EXPECT_EQ(wire().sent, 2u);
}

TEST_F(DispatcherTest, CredentialErrorsHoldTheConnectionsPushesAndPruneNothing) {
    h.add(test::token_a, "g");
    dispatcher->submit(push(test::token_a, "T1"));
    dispatcher->submit(push(test::token_b, "T1"));
    dispatcher->submit(push(test::token_c, "T1", 1, 1));  // another connection
    wire().answer(403, "InvalidProviderToken");
    wire().answer(403, "InvalidProviderToken");
    EXPECT_TRUE(dispatcher->holding(0));
    dispatcher->submit(push(test::token_d, "T1"));
    EXPECT_EQ(wire().sent, 2u) << "held pushes are not sent";
    wire(1).answer(200);  // the other connection is unaffected
    EXPECT_TRUE(h.store->get_device(test::token_a));
    EXPECT_EQ(counters[Counter::pushes_failed], 0u);
    auto alerts = [&] {
        int n = 0;
        for (const auto& l : lines) n += l.find("apns.credentials_rejected") != std::string::npos;
        return n;
    };
    EXPECT_EQ(alerts(), 1);

    advance(30000);
    EXPECT_EQ(alerts(), 1) << "no alert within the minute";
    advance(30000);  // one probe a minute
    ASSERT_EQ(wire().waiting.size(), 1u);
    EXPECT_EQ(alerts(), 1);
    wire().answer(403, "InvalidProviderToken");
    EXPECT_EQ(alerts(), 2) << "still rejected a minute later: the second alert";
    advance(30000);
    EXPECT_TRUE(wire().waiting.empty());
    EXPECT_EQ(alerts(), 2);
    advance(30000);
    ASSERT_EQ(wire().waiting.size(), 1u);
    wire().answer(200);  // credentials fixed: the rest go
    EXPECT_EQ(alerts(), 2);
    EXPECT_FALSE(dispatcher->holding(0));
    EXPECT_EQ(wire().waiting.size(), 2u);
    wire().answer_all(200);
    EXPECT_EQ(counters[Counter::pushes_sent], 4u);
    EXPECT_EQ(dispatcher->devices_busy(), 0u);
}

TEST_F(DispatcherTest, ANewerTailWaitsBehindThePushOnTheWireAndSupersedesOlderWaitingOnes) {
    dispatcher->submit(push(test::token_a, "T1", 1));
    dispatcher->submit(push(test::token_a, "T2", 2));
    dispatcher->submit(push(test::token_a, "T3", 3));
    ASSERT_EQ(wire().waiting.size(), 1u) << "one push per device on the wire";
    ASSERT_EQ(finished.size(), 1u);
    EXPECT_EQ(finished[0].first.tail, "T2");
    EXPECT_EQ(finished[0].second, Outcome::superseded);
    wire().answer(200);
    ASSERT_EQ(wire().waiting.size(), 1u);
    EXPECT_EQ(wire().waiting.front().payload, silent_payload("T3"));
    // T3 fails retryably and T4 arrives during the backoff: T4 replaces it at once.
    wire().answer(503, "ServiceUnavailable");
    dispatcher->submit(push(test::token_a, "T4", 4));
    ASSERT_EQ(wire().waiting.size(), 1u);
    EXPECT_EQ(wire().waiting.front().payload, silent_payload("T4"));
    wire().answer(200);
    advance(100000);
    EXPECT_TRUE(wire().waiting.empty());
    EXPECT_EQ(counters[Counter::pushes_sent], 2u);
    EXPECT_EQ(finished.size(), 4u);
    dedupe.flush();
    EXPECT_EQ(h.store->last_sent_tail(test::token_a), "T4");
}

TEST_F(DispatcherTest, StopHandsBackWhatIsNotOnTheWireAndLetsTheWireFinish) {
    dispatcher->submit(push(test::token_a, "T1"));
    dispatcher->submit(push(test::token_b, "T1"));
    wire().answer(503);  // a: waiting for its retry
    dispatcher->stop(1000);
    EXPECT_TRUE(wire().shut_down);
    EXPECT_EQ(timers.size(), 0u);
    dispatcher->submit(push(test::token_c, "T1"));
    EXPECT_EQ(wire().sent, 2u);
    wire().answer(0, "Shutdown");  // b comes back unanswered: handed back, not failed
    EXPECT_EQ(dispatcher->on_wire(), 0u);
    EXPECT_EQ(counters[Counter::pushes_failed], 0u);
    EXPECT_TRUE(finished.empty()) << "nothing finished: it all stays in the outbox";
}

// A reload (Dispatcher::reconfigure): connection 0 replaced, connection 1 kept.
struct DispatcherReloadTest : DispatcherTest {
    void replace_first(std::function<std::optional<std::size_t>(const Target&)> reroute = {}) {
        if (!reroute) reroute = [](const Target& t) { return std::optional<std::size_t>(t.connection); };
        dispatcher->reconfigure(settings, connections, {std::nullopt, 1}, transports.factory(), {"new", "kept"}, reroute);
    }
    std::size_t delivered(const char* token) const {
        std::size_t n = 0;
        for (const auto& [push, outcome] : finished) n += push.target.token == token && outcome == Outcome::delivered;
        return n;
    }
};

TEST_F(DispatcherReloadTest, WhatWaitsForAReplacedConnectionMovesAndTheWireIsAnsweredWhereItWent) {
    settings.window_per_connection = 2;
    dispatcher = std::make_unique<Dispatcher>(
        Dispatcher::Deps{*h.store, dedupe, timers, backoff, log, {},
                         [this](const Push& p, Outcome o) { finished.emplace_back(p, o); }},
        settings, connections, transports.factory());
    test::FakeTransport& old_wire = *transports.all.at(2);
    dispatcher->submit(std::vector<Push>{push(test::token_a, "T1"), push(test::token_b, "T1"), push(test::token_c, "T1")});
    ASSERT_EQ(old_wire.waiting.size(), 2u);  // a and b handed over, c waits in the backlog
    replace_first();
    test::FakeTransport& new_wire = *transports.all.at(4);
    EXPECT_TRUE(old_wire.draining);
    EXPECT_FALSE(transports.all.at(3)->draining);  // the kept connection goes on
    EXPECT_EQ(dispatcher->retiring(), 1u);
    EXPECT_EQ(new_wire.waiting.size(), 0u);  // c waits for a window slot, now on the new connection
    // a was on the wire: its answer counts; b never left the old client: it comes back NotSent.
    old_wire.answer(200);
    old_wire.answer(0, "NotSent");
    dispatcher->pump();  // the loop's next iteration: a's slot is free for c
    ASSERT_EQ(new_wire.waiting.size(), 2u);
    EXPECT_EQ(new_wire.waiting[0].token, test::token_b);
    EXPECT_EQ(new_wire.waiting[1].token, test::token_c);
    new_wire.answer_all(200);
    for (const char* token : {test::token_a, test::token_b, test::token_c}) EXPECT_EQ(delivered(token), 1u) << token;
    EXPECT_EQ(dispatcher->stats().retries, 0u);
    dispatcher->collect_retired();  // the old transport is drained: freed
    EXPECT_EQ(dispatcher->retiring(), 0u);
    EXPECT_TRUE(logged("apns.connection_retired apps=0"));
}

TEST_F(DispatcherReloadTest, PushesHeldForRefusedCredentialsGoAgainOnTheReplacementAtOnce) {
    dispatcher->submit(push(test::token_a, "T1"));
    wire(0).answer(403, "InvalidProviderToken");
    EXPECT_TRUE(dispatcher->holding(0));
    replace_first();
    test::FakeTransport& new_wire = *transports.all.at(2);
    EXPECT_FALSE(dispatcher->holding(0));
    ASSERT_EQ(new_wire.waiting.size(), 1u);
    new_wire.answer(200);
    EXPECT_EQ(delivered(test::token_a), 1u);
}

TEST_F(DispatcherReloadTest, PushesOfAnAppNoLongerConfiguredFailAsUnroutable) {
    dispatcher->submit(push(test::token_a, "T1"));
    dispatcher->submit(push(test::token_a, "T2"));  // waits behind T1
    replace_first([](const Target&) { return std::nullopt; });
    ASSERT_EQ(finished.size(), 1u);  // T2 had nowhere to go
    EXPECT_EQ(finished[0].second, Outcome::failed);
    EXPECT_TRUE(logged("push.unroutable group=g token=aaaaaaaa tail=T2"));
    wire(0).answer(0, "NotSent");  // T1 never left: no connection to send it on either
    ASSERT_EQ(finished.size(), 2u);
    EXPECT_EQ(finished[1].second, Outcome::failed);
    EXPECT_EQ(dispatcher->devices_busy(), 0u);
}

}  // namespace
}  // namespace pushsync::sender
