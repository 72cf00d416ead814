// SPDX-License-Identifier: BSD-2-Clause
// The consumer's view of a hostile queue file: a slot breaking the API's rules is counted and
// skipped, never handed out; forged positions, an overwritten header and a truncated file make the
// Queue answer "retired" (reopen) instead of looping, waiting forever or faulting; and after
// `queue reset` the path works again. docs/architecture.md, "Trust and ownership".
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "shared/queue/queue.hpp"
#include "tests/shared/queue/queue_forger.hpp"
#include "tests/support/process.hpp"

namespace pushsync {
namespace {

using namespace std::chrono_literals;
using test::QueueForger;
using test::TempDir;
namespace fs = std::filesystem;

const std::string kToken(64, 'a');

std::vector<QueuedNotify> read_all(Queue& q) {
    std::vector<QueuedNotify> out;
    while (q.read(out, 1000, 0ms) > 0) {
    }
    return out;
}

TEST(QueueHostile, SlotsBreakingTheApiRulesAreCountedSkippedAndCommittedPast) {
    TempDir dir;
    const std::string path = dir / "queue";
    auto q = Queue::open(path, 16);
    QueueForger forger(path);
    ASSERT_EQ(q->enqueue(Notify{"g1", "T1", "", 1}), EnqueueResult::accepted);
    forger.publish({.group = "g1", .tail = "T\",\"aps\":{\"alert\":\"pwned\"}"});  // tail alphabet
    forger.publish({.group = "g1\nforged line", .tail = "T"});                     // group alphabet
    forger.publish({.group = "", .tail = "T"});                                    // empty group
    forger.publish({.group = "g1", .tail = "T", .tail_len = 200});                 // over a slot
    forger.publish({.group = "g1", .tail = "T", .origin = "not-hex"});             // origin token
    forger.publish({.group = std::string(129, 'g'), .tail = "T", .group_len = 129});
    ASSERT_EQ(q->enqueue(Notify{"g1", "T2", kToken, 2}), EnqueueResult::accepted);

    const auto got = read_all(*q);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].tail, "T1");
    EXPECT_EQ(got[1].tail, "T2");
    EXPECT_EQ(got[1].origin, kToken);
    EXPECT_EQ(q->stats().rejected_slots, 6u);
    const auto rejected = q->take_rejected();
    ASSERT_EQ(rejected.size(), 6u);
    EXPECT_EQ(rejected[0].why, "tail not valid");
    EXPECT_EQ(rejected[1].why, "group not valid");
    EXPECT_EQ(rejected[3].why, "tail length 200 over 128");
    EXPECT_EQ(rejected[4].why, "origin not a valid token");
    EXPECT_EQ(rejected[5].why, "group length 129 over 128");
    EXPECT_TRUE(q->take_rejected().empty()) << "taken once";
    EXPECT_FALSE(q->retired()) << "bad slots are skipped, the file stays in use";

    // Committing past them frees the ring: a full ring of notifies still fits afterwards.
    q->commit(q->read_position());
    for (int i = 0; i < 16; ++i) ASSERT_EQ(q->enqueue(Notify{"g", "t", "", 3}), EnqueueResult::accepted) << i;
    EXPECT_EQ(read_all(*q).size(), 16u);
}

TEST(QueueHostile, AForgedProducerPositionBreaksTheFileInsteadOfStallingOrLooping) {
    TempDir dir;
    const std::string path = dir / "queue";
    auto q = Queue::open(path, 16);
    ASSERT_EQ(q->enqueue(Notify{"g", "t", "", 1}), EnqueueResult::accepted);
    ASSERT_EQ(read_all(*q).size(), 1u);
    QueueForger forger(path);
    forger.header().producer_position.store(std::uint64_t{1} << 61);

    std::vector<QueuedNotify> out;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(q->read(out, 1000, 5s), 0u);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 4s) << "it waited on a forged position";
    EXPECT_TRUE(q->retired());
    EXPECT_NE(q->broken_reason().find("positions forged"), std::string::npos) << q->broken_reason();
    EXPECT_NE(q->broken_reason().find(path), std::string::npos) << q->broken_reason();
    q->commit(std::uint64_t{1} << 61);  // returns; walks nothing
    EXPECT_LE(q->peek(1000).size(), 16u);

    // Reopening refuses the file, naming it; a reset makes the path work again.
    try {
        Queue::open(path, 16);
        ADD_FAILURE() << "a file with forged positions was opened";
    } catch (const QueueError& e) {
        EXPECT_NE(std::string(e.what()).find("corrupt positions"), std::string::npos) << e.what();
    }
    q.reset();
    Queue::reset(path, 16);
    auto fresh = Queue::open(path, 16);
    ASSERT_EQ(fresh->enqueue(Notify{"g", "after", "", 1}), EnqueueResult::accepted);
    const auto got = read_all(*fresh);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].tail, "after");
}

TEST(QueueHostile, ACommittedPositionMovedByAnotherProcessBreaksTheFile) {
    for (std::int64_t shift : {-8, 3, 1 << 20}) {
        TempDir dir;
        const std::string path = dir / "queue";
        auto q = Queue::open(path, 16);
        for (int i = 0; i < 8; ++i) ASSERT_EQ(q->enqueue(Notify{"g", "t", "", 1}), EnqueueResult::accepted);
        ASSERT_EQ(read_all(*q).size(), 8u);
        q->commit(q->read_position());
        QueueForger forger(path);
        forger.header().committed_position.fetch_add(static_cast<std::uint64_t>(shift));
        std::vector<QueuedNotify> out;
        EXPECT_EQ(q->read(out, 10, 0ms), 0u) << shift;
        EXPECT_TRUE(q->retired()) << shift;
        EXPECT_NE(q->broken_reason().find("positions forged"), std::string::npos) << q->broken_reason();
    }
}

TEST(QueueHostile, SlotStatesOfAnyValueNeverMakeReadLoopOrWait) {
    TempDir dir;
    const std::string path = dir / "queue";
    QueueOptions options;
    options.stall_bound = 1ms;
    auto q = Queue::open(path, 16, options);
    QueueForger forger(path);
    // Every slot claimed and never published, the producer position a full ring ahead.
    const auto committed = forger.header().committed_position.load();
    forger.header().producer_position.store(committed + 16);
    for (std::uint64_t p = committed; p < committed + 16; ++p)
        forger.slot(p).state.store(queue_layout::state(p >> 4, queue_layout::kClaimed));
    std::vector<QueuedNotify> out;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 200 && q->read_position() < committed + 16; ++i) q->read(out, 100, 5ms);
    EXPECT_EQ(q->read_position(), committed + 16) << "each slot passed after the stall bound";
    EXPECT_TRUE(out.empty());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    q->commit(q->read_position());
    EXPECT_FALSE(q->retired());
    ASSERT_EQ(q->enqueue(Notify{"g", "after", "", 1}), EnqueueResult::accepted);
    ASSERT_EQ(read_all(*q).size(), 1u);
}

TEST(QueueHostile, ATruncatedFileIsRetiredNotAFaultForProducerConsumerAndFigures) {
    for (std::uintmax_t size : {std::uintmax_t{0}, std::uintmax_t{100}, std::uintmax_t{4096 + 512}}) {
        TempDir dir;
        const std::string path = dir / "queue";
        auto consumer = Queue::open(path, 16);
        auto producer = Queue::open(path, 16);
        ASSERT_EQ(producer->enqueue(Notify{"g", "t", "", 1}), EnqueueResult::accepted);
        ASSERT_EQ(read_all(*consumer).size(), 1u);
        fs::resize_file(path, size);

        // Each of these would touch a page past the end (SIGBUS) if it did not check first.
        EXPECT_EQ(producer->enqueue(Notify{"g", "t", "", 1}), EnqueueResult::full) << size;
        EXPECT_TRUE(producer->retired());
        std::vector<QueuedNotify> out;
        EXPECT_EQ(consumer->read(out, 10, 0ms), 0u);
        consumer->commit(consumer->read_position());
        consumer->heartbeat(1);
        consumer->wake_consumer();
        consumer->add(Counter::pushes_sent);
        EXPECT_TRUE(consumer->stats().retired);
        EXPECT_TRUE(consumer->peek(10).empty());
        EXPECT_TRUE(consumer->retired());
        EXPECT_NE(consumer->broken_reason().find("size changed from 12288 to " + std::to_string(size)), std::string::npos)
            << consumer->broken_reason();

        // Reopening refuses it; `queue reset` makes the path work again.
        EXPECT_THROW(Queue::open(path, 16), QueueError);
        Queue::reset(path, 16);
        auto fresh = Queue::open(path, 16);
        ASSERT_EQ(fresh->enqueue(Notify{"g", "again", "", 1}), EnqueueResult::accepted);
        ASSERT_EQ(read_all(*fresh).size(), 1u);
    }
}

TEST(QueueHostile, AnOverwrittenHeaderRetiresTheFile) {
    TempDir dir;
    const std::string path = dir / "queue";
    auto q = Queue::open(path, 16);
    QueueForger forger(path);
    forger.header().capacity = 1u << 30;
    EXPECT_EQ(q->enqueue(Notify{"g", "t", "", 1}), EnqueueResult::full);
    EXPECT_TRUE(q->retired());
    EXPECT_NE(q->broken_reason().find("header overwritten"), std::string::npos) << q->broken_reason();
}

}  // namespace
}  // namespace pushsync
