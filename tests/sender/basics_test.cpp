// SPDX-License-Identifier: BSD-2-Clause
// Small pure stages: backoff, classification, the timer queue.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "sender/dispatch/backoff.hpp"
#include "sender/dispatch/classify.hpp"
#include "sender/dispatch/dispatcher.hpp"
#include "sender/timers.hpp"
#include "tests/sender/fakes.hpp"

namespace pushsync::sender {
namespace {

TEST(Backoff, DoublesFromBaseUpToTheCap) {
    test::FakeRandom random;
    Backoff backoff(500, 60000, random);
    EXPECT_EQ(backoff.cap_ms(1), 500);
    EXPECT_EQ(backoff.cap_ms(2), 1000);
    EXPECT_EQ(backoff.cap_ms(3), 2000);
    EXPECT_EQ(backoff.cap_ms(8), 60000);  // 500 * 128 = 64000, capped
    EXPECT_EQ(backoff.cap_ms(200), 60000);
}

TEST(Backoff, JitterKeepsEachDelayBetweenHalfTheCapAndTheCap) {
    test::FakeRandom random;
    Backoff backoff(500, 60000, random);
    random.value = 0.0;
    EXPECT_EQ(backoff.delay_ms(1), 250);
    EXPECT_EQ(backoff.delay_ms(3), 1000);
    random.value = 0.999999;
    EXPECT_EQ(backoff.delay_ms(1), 499);
    EXPECT_EQ(backoff.delay_ms(30), 59999);
    random.value = 0.5;
    EXPECT_EQ(backoff.delay_ms(2), 750);
}

TEST(Classify, SortsEveryAnswerOfApnsMd) {
    EXPECT_EQ(classify(200, ""), Verdict::delivered);
    EXPECT_EQ(classify(410, "Unregistered"), Verdict::unregistered);
    EXPECT_EQ(classify(410, "ExpiredToken"), Verdict::unregistered);
    EXPECT_EQ(classify(400, "BadDeviceToken"), Verdict::token_rejected);
    EXPECT_EQ(classify(400, "DeviceTokenNotForTopic"), Verdict::token_rejected);
    EXPECT_EQ(classify(400, "BadTopic"), Verdict::failed);
    EXPECT_EQ(classify(400, "PayloadEmpty"), Verdict::failed);
    EXPECT_EQ(classify(400, "IdleTimeout"), Verdict::retry);
    EXPECT_EQ(classify(413, "PayloadTooLarge"), Verdict::failed);
    EXPECT_EQ(classify(404, "BadPath"), Verdict::failed);
    EXPECT_EQ(classify(429, "TooManyRequests"), Verdict::retry);
    EXPECT_EQ(classify(500, "InternalServerError"), Verdict::retry);
    EXPECT_EQ(classify(503, "ServiceUnavailable"), Verdict::retry);
    EXPECT_EQ(classify(0, "Timeout"), Verdict::retry);
    EXPECT_EQ(classify(0, "ConnectionLost"), Verdict::retry);
    EXPECT_EQ(classify(403, "ExpiredProviderToken"), Verdict::retry);
    EXPECT_EQ(classify(403, "InvalidProviderToken"), Verdict::credentials);
    EXPECT_EQ(classify(403, "BadCertificate"), Verdict::credentials);
    EXPECT_EQ(classify(403, "Forbidden"), Verdict::credentials);
}

TEST(Payload, IsExactlyTheContractBody) {
    EXPECT_EQ(silent_payload("T-000042"), R"({"aps":{"content-available":1},"tail":"T-000042"})");
    EXPECT_EQ(silent_payload("a:b+c/d=e~f.g_h"), R"({"aps":{"content-available":1},"tail":"a:b+c/d=e~f.g_h"})");
}

TEST(Payload, AHostileTailIsOnlyEverTheValueOfTail) {
    const std::string hostile = "x\",\"aps\":{\"alert\":\"pwned\"},\"y\":\"\n\xff";
    const auto body = nlohmann::json::parse(silent_payload(hostile));
    ASSERT_EQ(body.size(), 2u) << silent_payload(hostile);
    EXPECT_EQ(body.at("aps"), nlohmann::json::parse(R"({"content-available":1})"));
    EXPECT_EQ(body.at("tail"), "x\",\"aps\":{\"alert\":\"pwned\"},\"y\":\"\n\xef\xbf\xbd");
}

TEST(TimerQueue, RunsDueTimersInDeadlineOrderAndSkipsCancelledOnes) {
    test::FakeClock clock;
    TimerQueue timers(clock);
    std::vector<std::string> ran;
    timers.after(30, [&] { ran.push_back("c"); });
    const auto b = timers.after(20, [&] { ran.push_back("b"); });
    timers.after(10, [&] { ran.push_back("a"); });
    EXPECT_EQ(timers.next_deadline(), clock.now + 10);
    timers.cancel(b);
    clock.now += 25;
    EXPECT_EQ(timers.run_due(), 1u);
    EXPECT_EQ(ran, std::vector<std::string>{"a"});
    clock.now += 5;
    timers.run_due();
    EXPECT_EQ(ran, (std::vector<std::string>{"a", "c"}));
    EXPECT_FALSE(timers.next_deadline());
}

TEST(TimerQueue, ATimerAddedByATimerThatIsAlreadyDueRunsInTheSamePass) {
    test::FakeClock clock;
    TimerQueue timers(clock);
    int ran = 0;
    timers.after(5, [&] {
        ++ran;
        timers.after(0, [&] { ++ran; });
    });
    clock.now += 5;
    timers.run_due();
    EXPECT_EQ(ran, 2);
}

}  // namespace
}  // namespace pushsync::sender
