// SPDX-License-Identifier: BSD-2-Clause
// The access-token cache on a fake clock: when it fetches, which token a push gets, who waits,
// how failures back off, and the 401 rule (refresh once, then the operator).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sender/fcm/auth/access_token_cache.hpp"
#include "tests/sender/fakes.hpp"

namespace pushsync::sender::fcm {
namespace {

using State = AccessTokenCache::State;
using Unauthorized = AccessTokenCache::Unauthorized;

TokenAnswer grant(const std::string& token, std::int64_t expires_in_s) {
    TokenAnswer answer;
    answer.kind = TokenAnswer::Kind::token;
    answer.status = 200;
    answer.access_token = token;
    answer.expires_in_s = expires_in_s;
    return answer;
}

TokenAnswer failure() { return parse_token_answer(503, ""); }

struct Harness {
    test::FakeClock clock;
    int fetch_calls = 0;
    std::vector<std::string> alerts;
    AccessTokenCache cache{clock, {[this] { ++fetch_calls; }, [this](const std::string& p) { alerts.push_back(p); }}};
};

TEST(FcmAccessTokenCache, RefreshMarginIsFiveMinutesOrATenth) {
    EXPECT_EQ(AccessTokenCache::refresh_margin_ms(3'599'000), 300'000);
    EXPECT_EQ(AccessTokenCache::refresh_margin_ms(3'000'000), 300'000);
    EXPECT_EQ(AccessTokenCache::refresh_margin_ms(1'000'000), 100'000);
    EXPECT_EQ(AccessTokenCache::refresh_margin_ms(5'000), 500);
    EXPECT_EQ(AccessTokenCache::refresh_margin_ms(0), 0);
}

TEST(FcmAccessTokenCache, FirstPushStartsOneFetchAndGetsTheToken) {
    Harness h;
    EXPECT_EQ(h.cache.state(), State::no_token);
    EXPECT_EQ(h.cache.next_due_ms(), h.clock.now);  // nothing yet: due now
    EXPECT_EQ(h.cache.current(), nullptr);
    EXPECT_EQ(h.fetch_calls, 1);
    EXPECT_EQ(h.cache.state(), State::fetching);
    EXPECT_EQ(h.cache.next_due_ms(), -1);
    EXPECT_EQ(h.cache.current(), nullptr);
    h.cache.poll();
    EXPECT_EQ(h.fetch_calls, 1);  // one outstanding at a time

    const std::int64_t started = h.clock.now;
    h.clock.now += 200;
    h.cache.on_answer(grant("tok-1", 3599));
    const auto* token = h.cache.current();
    ASSERT_NE(token, nullptr);
    EXPECT_EQ(token->value, "tok-1");
    EXPECT_EQ(token->generation, 1u);
    // Counted from the request, not the answer: the endpoint's clock started no earlier.
    EXPECT_EQ(token->expires_at_ms, started + 3'599'000);
    EXPECT_EQ(h.cache.next_due_ms(), started + 3'599'000 - 300'000);
    EXPECT_EQ(h.cache.state(), State::valid);
}

TEST(FcmAccessTokenCache, RefreshesEarlyAndServesTheOldTokenMeanwhile) {
    Harness h;
    h.cache.poll();
    const std::int64_t started = h.clock.now;
    h.cache.on_answer(grant("tok-1", 3599));
    const std::int64_t due = started + 3'299'000;
    ASSERT_EQ(h.cache.next_due_ms(), due);

    h.clock.now = due - 1;
    h.cache.poll();
    ASSERT_NE(h.cache.current(), nullptr);
    EXPECT_EQ(h.fetch_calls, 1);

    h.clock.now = due;
    h.cache.poll();
    EXPECT_EQ(h.fetch_calls, 2);
    const auto* old = h.cache.current();
    ASSERT_NE(old, nullptr);
    EXPECT_EQ(old->value, "tok-1");
    EXPECT_EQ(h.cache.state(), State::valid);

    h.cache.on_answer(grant("tok-2", 3599));
    ASSERT_NE(h.cache.current(), nullptr);
    EXPECT_EQ(h.cache.current()->value, "tok-2");
    EXPECT_EQ(h.cache.current()->generation, 2u);
    EXPECT_EQ(h.cache.next_due_ms(), due + 3'299'000);
}

TEST(FcmAccessTokenCache, ShortSimulatorTokensRefreshHalfASecondEarly) {
    Harness h;
    h.cache.poll();
    const std::int64_t started = h.clock.now;
    h.cache.on_answer(grant("sim-1", 5));
    EXPECT_EQ(h.cache.next_due_ms(), started + 4'500);
    h.clock.now = started + 4'500;
    EXPECT_NE(h.cache.current(), nullptr);  // still valid while the next is fetched
    EXPECT_EQ(h.fetch_calls, 2);
}

TEST(FcmAccessTokenCache, AnExpiredTokenIsNotServedAndPushesWait) {
    Harness h;
    h.cache.poll();
    const std::int64_t started = h.clock.now;
    h.cache.on_answer(grant("tok-1", 10));
    h.clock.now = started + 9'000;
    h.cache.poll();  // the refresh
    ASSERT_EQ(h.fetch_calls, 2);
    h.clock.now = started + 10'000;  // it has not come back, and the token is over
    EXPECT_EQ(h.cache.current(), nullptr);
    EXPECT_EQ(h.cache.state(), State::fetching);

    std::vector<std::string> got;
    h.cache.wait([&](const AccessTokenCache::Token& t) { got.push_back(t.value); });
    h.cache.wait([&](const AccessTokenCache::Token& t) { got.push_back(t.value + "!"); });
    EXPECT_EQ(h.cache.waiting(), 2u);
    EXPECT_EQ(h.fetch_calls, 2);  // waiting starts no second fetch
    h.cache.on_answer(grant("tok-2", 10));
    EXPECT_EQ(got, (std::vector<std::string>{"tok-2", "tok-2!"}));
    EXPECT_EQ(h.cache.waiting(), 0u);
}

TEST(FcmAccessTokenCache, FailedFetchesBackOffAndKeepTheirWaiters) {
    Harness h;
    int called = 0;
    h.cache.wait([&](const AccessTokenCache::Token&) { ++called; });
    ASSERT_EQ(h.fetch_calls, 1);

    // 1 s, 2 s, 4 s, … capped at 60 s; the waiter stays through every one.
    const std::int64_t expected[] = {1'000, 2'000, 4'000, 8'000, 16'000, 32'000, 60'000, 60'000};
    for (std::size_t i = 0; i < std::size(expected); ++i) {
        h.cache.on_answer(failure());
        EXPECT_EQ(h.cache.failures(), i + 1);
        EXPECT_EQ(h.cache.state(), State::no_token);
        EXPECT_EQ(h.cache.next_due_ms(), h.clock.now + expected[i]) << i;
        EXPECT_EQ(h.cache.waiting(), 1u);
        h.clock.now += expected[i] - 1;
        EXPECT_EQ(h.cache.current(), nullptr);
        h.cache.poll();
        EXPECT_EQ(h.fetch_calls, static_cast<int>(i) + 1) << "fetched before its backoff ended";
        h.clock.now += 1;
        h.cache.poll();
        EXPECT_EQ(h.fetch_calls, static_cast<int>(i) + 2);
    }
    EXPECT_EQ(called, 0);
    h.cache.on_answer(grant("tok", 3599));
    EXPECT_EQ(called, 1);
    EXPECT_EQ(h.cache.failures(), 0u);
    EXPECT_TRUE(h.alerts.empty());  // failures are counted, not the operator's
}

TEST(FcmAccessTokenCache, AFailedRefreshLeavesTheTokenInUseUntilItEnds) {
    Harness h;
    h.cache.poll();
    const std::int64_t started = h.clock.now;
    h.cache.on_answer(grant("tok-1", 3599));
    h.clock.now = started + 3'299'000;
    h.cache.poll();
    h.cache.on_answer(failure());
    ASSERT_NE(h.cache.current(), nullptr);
    EXPECT_EQ(h.cache.current()->value, "tok-1");
    EXPECT_EQ(h.cache.next_due_ms(), h.clock.now + 1'000);
}

TEST(FcmAccessTokenCache, UnauthorizedRefreshesOnceThenAlertsTheOperator) {
    Harness h;
    h.cache.poll();
    h.cache.on_answer(grant("tok-1", 3599));

    // The first 401: a new token at once.
    EXPECT_EQ(h.cache.on_unauthorized(1), Unauthorized::retry);
    EXPECT_EQ(h.fetch_calls, 2);
    EXPECT_EQ(h.cache.current(), nullptr);  // the refused token is not sent again
    h.cache.on_answer(grant("tok-2", 3599));
    ASSERT_NE(h.cache.current(), nullptr);
    EXPECT_EQ(h.cache.current()->generation, 2u);

    // A late 401 for the old token changes nothing.
    EXPECT_EQ(h.cache.on_unauthorized(1), Unauthorized::retry);
    EXPECT_EQ(h.fetch_calls, 2);
    EXPECT_FALSE(h.cache.credentials_rejected());

    // A 401 on the fresh token: the credentials, for the operator, once.
    EXPECT_EQ(h.cache.on_unauthorized(2), Unauthorized::credentials);
    EXPECT_EQ(h.cache.on_unauthorized(2), Unauthorized::credentials);
    EXPECT_EQ(h.fetch_calls, 2);
    ASSERT_EQ(h.alerts.size(), 1u);
    EXPECT_NE(h.alerts[0].find("HTTP 401"), std::string::npos) << h.alerts[0];
    EXPECT_TRUE(h.cache.credentials_rejected());
    EXPECT_EQ(h.cache.problem(), h.alerts[0]);
    EXPECT_NE(h.cache.current(), nullptr);  // kept: a held push's probe shows when it works again

    // Its refresh is still a token fetched while FCM refuses: a 401 on it alerts no more, fetches nothing.
    h.clock.now = h.cache.next_due_ms();
    h.cache.poll();
    h.cache.on_answer(grant("tok-3", 3599));
    EXPECT_EQ(h.cache.on_unauthorized(3), Unauthorized::credentials);
    EXPECT_EQ(h.fetch_calls, 3);
    EXPECT_EQ(h.alerts.size(), 1u);

    // FCM took it (the operator fixed the role): the problem is over, and a later 401 earns a
    // refresh again.
    h.cache.on_accepted(3);
    EXPECT_FALSE(h.cache.credentials_rejected());
    EXPECT_EQ(h.cache.problem(), "");
    EXPECT_EQ(h.cache.on_unauthorized(3), Unauthorized::retry);
    EXPECT_EQ(h.fetch_calls, 4);
}

TEST(FcmAccessTokenCache, AcceptedTokenEarnsAnotherRefreshOnALater401) {
    Harness h;
    h.cache.poll();
    h.cache.on_answer(grant("tok-1", 3599));
    ASSERT_EQ(h.cache.on_unauthorized(1), Unauthorized::retry);
    h.cache.on_answer(grant("tok-2", 3599));
    h.cache.on_accepted(2);
    EXPECT_EQ(h.cache.on_unauthorized(2), Unauthorized::retry);
    EXPECT_EQ(h.fetch_calls, 3);
    EXPECT_TRUE(h.alerts.empty());
}

TEST(FcmAccessTokenCache, A401DuringARefreshMarksTheComingToken) {
    Harness h;
    h.cache.poll();
    h.cache.on_answer(grant("tok-1", 3599));
    h.clock.now = h.cache.next_due_ms();
    h.cache.poll();  // the refresh is out
    ASSERT_EQ(h.fetch_calls, 2);
    EXPECT_EQ(h.cache.on_unauthorized(1), Unauthorized::retry);
    EXPECT_EQ(h.fetch_calls, 2);  // that one brings the new token
    h.cache.on_answer(grant("tok-2", 3599));
    EXPECT_EQ(h.cache.on_unauthorized(2), Unauthorized::credentials);
}

TEST(FcmAccessTokenCache, RefusedAssertionAlertsBacksOffAndKeepsWaiters) {
    Harness h;
    int called = 0;
    h.cache.wait([&](const AccessTokenCache::Token&) { ++called; });
    h.cache.on_answer(parse_token_answer(400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})"));
    ASSERT_EQ(h.alerts.size(), 1u);
    EXPECT_EQ(h.alerts[0], "the token endpoint refused the service account (HTTP 400 invalid_grant: Invalid JWT Signature.)");
    EXPECT_TRUE(h.cache.credentials_rejected());
    EXPECT_EQ(h.cache.waiting(), 1u);
    EXPECT_EQ(h.cache.next_due_ms(), h.clock.now + 1'000);

    h.clock.now += 1'000;
    h.cache.poll();
    h.cache.on_answer(parse_token_answer(400, R"({"error":"invalid_grant"})"));
    EXPECT_EQ(h.alerts.size(), 1u);  // still the same problem
    EXPECT_EQ(h.cache.next_due_ms(), h.clock.now + 2'000);

    h.clock.now += 2'000;
    h.cache.poll();
    h.cache.on_answer(grant("tok", 3599));
    EXPECT_FALSE(h.cache.credentials_rejected());
    EXPECT_EQ(called, 1);
    // And a 401 on that token is a first one: it earns a refresh.
    EXPECT_EQ(h.cache.on_unauthorized(1), Unauthorized::retry);
}

TEST(FcmAccessTokenCache, ATokenThatEndedBeforeItsAnswerCameIsAFailure) {
    Harness h;
    h.cache.poll();
    h.clock.now += 6'000;
    h.cache.on_answer(grant("late", 5));
    EXPECT_EQ(h.cache.current(), nullptr);
    EXPECT_EQ(h.cache.failures(), 1u);
}

TEST(FcmAccessTokenCache, AnAnswerNobodyAskedForIsIgnored) {
    Harness h;
    h.cache.on_answer(grant("stray", 3599));
    EXPECT_EQ(h.cache.state(), State::no_token);
    EXPECT_EQ(h.fetch_calls, 0);
}

TEST(FcmAccessTokenCache, WaitersCanBeTakenBackAndSurviveAThrowingOne) {
    Harness h;
    int later = 0;
    h.cache.wait([](const AccessTokenCache::Token&) { throw std::runtime_error("owner failed"); });
    h.cache.wait([&](const AccessTokenCache::Token&) { ++later; });
    EXPECT_THROW(h.cache.on_answer(grant("tok", 3599)), std::runtime_error);
    EXPECT_EQ(later, 0);
    EXPECT_EQ(h.cache.waiting(), 1u);  // the one after the thrower is still waiting
    auto taken = h.cache.take_waiters();
    EXPECT_EQ(taken.size(), 1u);
    EXPECT_EQ(h.cache.waiting(), 0u);
}

}  // namespace
}  // namespace pushsync::sender::fcm
