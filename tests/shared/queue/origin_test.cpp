// SPDX-License-Identifier: BSD-2-Clause
// A notify's origin through the queue (shared/queue/origin.hpp): an FCM token longer than a slot
// travels as its hash, is accepted by the consumer's checks and still names its one device.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "shared/queue/layout.hpp"
#include "shared/queue/origin.hpp"
#include "shared/queue/queue.hpp"
#include "tests/support/process.hpp"

namespace pushsync {
namespace {

using namespace std::chrono_literals;

std::string fcm_token(std::size_t length, char fill = 'a') {
    std::string token = "cD3f:APA91b";
    token.resize(length, fill);
    return token;
}

TEST(QueuedOrigin, AShortTokenTravelsAsItIs) {
    const std::string apns = "3f9a0123456789ab";
    const std::string fcm = fcm_token(queue_layout::kMaxOrigin);
    EXPECT_EQ(queued_origin(apns), apns);
    EXPECT_EQ(queued_origin(fcm), fcm);
    EXPECT_TRUE(is_origin(queued_origin(fcm), fcm));
    EXPECT_FALSE(is_origin(queued_origin(fcm), apns));
    EXPECT_FALSE(is_origin("", apns));
}

TEST(QueuedOrigin, ALongTokenTravelsAsItsHashAndNamesOnlyItself) {
    const std::string longest = fcm_token(1024);
    const std::string other = fcm_token(1024, 'b');
    const std::string hashed = queued_origin(longest);
    ASSERT_EQ(hashed.size(), 44u);
    EXPECT_EQ(hashed[0], '~');
    EXPECT_TRUE(is_valid_queued_origin(hashed));
    EXPECT_TRUE(is_origin(hashed, longest));
    EXPECT_FALSE(is_origin(hashed, other));
    EXPECT_FALSE(is_origin(hashed, hashed));  // a token can never be the hashed form itself
    EXPECT_FALSE(is_origin(hashed, fcm_token(queue_layout::kMaxOrigin)));
}

TEST(QueuedOrigin, TheConsumerTakesAHashedOriginAndRefusesAForgedOne) {
    test::TempDir dir;
    auto queue = Queue::open((dir / "queue").string(), 8);
    const std::string hashed = queued_origin(fcm_token(600));
    ASSERT_EQ(queue->enqueue(Notify{"g", "T-1", hashed, 1}), EnqueueResult::accepted);
    std::vector<QueuedNotify> read;
    ASSERT_EQ(queue->read(read, 8, 100ms), 1u);
    EXPECT_EQ(read[0].origin, hashed);

    EXPECT_FALSE(is_valid_queued_origin("~short"));
    EXPECT_FALSE(is_valid_queued_origin("~" + std::string(43, '+')));
    EXPECT_FALSE(is_valid_queued_origin(std::string(queue_layout::kMaxOrigin + 1, 'a')));
}

}  // namespace
}  // namespace pushsync
