// SPDX-License-Identifier: BSD-2-Clause
// Coalescing per group with a fake clock: one round per window, newest tail and origin win.
#include <gtest/gtest.h>

#include <vector>

#include "sender/intake/coalescer.hpp"
#include "tests/sender/fakes.hpp"

namespace pushsync::sender {
namespace {

OutboxEntry entry(std::uint64_t id, std::string group, std::string tail, std::string origin = {}) {
    return OutboxEntry{id, std::move(group), std::move(tail), std::move(origin), 1000 + static_cast<std::int64_t>(id)};
}

struct CoalescerTest : ::testing::Test {
    test::FakeClock clock;
    TimerQueue timers{clock};
    std::vector<Round> rounds;
    Coalescer::Emit emit() {
        return [this](Round round) { rounds.push_back(std::move(round)); };
    }
};

TEST_F(CoalescerTest, FiveNotifiesWithinTheWindowBecomeOneRoundWithTheNewestTailAndOrigin) {
    Coalescer coalescer(200, timers, emit());
    for (std::uint64_t i = 1; i <= 5; ++i) {
        coalescer.add(entry(i, "g1", "T-" + std::to_string(i), "origin" + std::to_string(i)));
        clock.now += 30;
        timers.run_due();
    }
    EXPECT_TRUE(rounds.empty());
    clock.now = 1000 + 200;
    timers.run_due();
    ASSERT_EQ(rounds.size(), 1u);
    EXPECT_EQ(rounds[0].group, "g1");
    EXPECT_EQ(rounds[0].tail, "T-5");
    EXPECT_EQ(rounds[0].origin, "origin5");
    EXPECT_EQ(rounds[0].entry_ids, (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(rounds[0].first_enqueued_ms, 1001);
    EXPECT_EQ(coalescer.pending_groups(), 0u);
}

TEST_F(CoalescerTest, TheNewestIsTheHighestQueuePositionNotTheLastArrival) {
    Coalescer coalescer(100, timers, emit());
    coalescer.add(entry(7, "g", "newest", "o7"));
    coalescer.add(entry(3, "g", "older", "o3"));  // redelivered after a restart
    clock.now += 100;
    timers.run_due();
    ASSERT_EQ(rounds.size(), 1u);
    EXPECT_EQ(rounds[0].tail, "newest");
    EXPECT_EQ(rounds[0].origin, "o7");
    EXPECT_EQ(rounds[0].entry_ids, (std::vector<std::uint64_t>{3, 7}));
}

TEST_F(CoalescerTest, GroupsAreCoalescedSeparatelyAndANotifyAfterTheWindowStartsANewRound) {
    Coalescer coalescer(100, timers, emit());
    coalescer.add(entry(1, "a", "a1"));
    clock.now += 50;
    coalescer.add(entry(2, "b", "b1"));
    clock.now += 50;
    timers.run_due();
    ASSERT_EQ(rounds.size(), 1u);
    EXPECT_EQ(rounds[0].group, "a");
    coalescer.add(entry(3, "a", "a2"));
    clock.now += 50;
    timers.run_due();
    ASSERT_EQ(rounds.size(), 2u);
    EXPECT_EQ(rounds[1].group, "b");
    clock.now += 50;
    timers.run_due();
    ASSERT_EQ(rounds.size(), 3u);
    EXPECT_EQ(rounds[2].group, "a");
    EXPECT_EQ(rounds[2].tail, "a2");
}

TEST_F(CoalescerTest, ZeroMeansEveryNotifyIsItsOwnRoundAtOnce) {
    Coalescer coalescer(0, timers, emit());
    coalescer.add(entry(1, "g", "t1", "o"));
    coalescer.add(entry(2, "g", "t2"));
    ASSERT_EQ(rounds.size(), 2u);
    EXPECT_EQ(rounds[0].tail, "t1");
    EXPECT_EQ(rounds[0].origin, "o");
    EXPECT_EQ(rounds[1].tail, "t2");
    EXPECT_EQ(timers.size(), 0u);
}

TEST_F(CoalescerTest, DropAllForgetsPendingGroupsWithoutEmitting) {
    Coalescer coalescer(100, timers, emit());
    coalescer.add(entry(1, "g", "t1"));
    coalescer.drop_all();
    clock.now += 1000;
    timers.run_due();
    EXPECT_TRUE(rounds.empty());
    EXPECT_EQ(timers.size(), 0u);
}

}  // namespace
}  // namespace pushsync::sender
