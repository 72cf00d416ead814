// SPDX-License-Identifier: BSD-2-Clause
// The queue file itself: creation by racing processes, refusal of files it cannot trust (never
// re-initialised silently), deliberate reset, survival across restarts, one consumer at a time.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "shared/queue/queue.hpp"
#include "tests/shared/queue/forked_child.hpp"
#include "tests/support/process.hpp"

namespace pushsync {
namespace {

using namespace std::chrono_literals;
using test::ForkedChild;
using test::TempDir;
namespace fs = std::filesystem;

// The error open() gives for `path`, "" if none.
std::string open_error(const std::string& path, std::uint32_t capacity) {
    try {
        if (capacity == 0)
            Queue::open_existing(path);
        else
            Queue::open(path, capacity);
    } catch (const QueueError& e) {
        return e.what();
    }
    return {};
}

void patch(const std::string& path, std::streamoff offset, const void* bytes, std::size_t n) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offset);
    f.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(n));
}

void make_queue_with_one_entry(const std::string& path, std::uint32_t capacity) {
    auto q = Queue::open(path, capacity);
    ASSERT_EQ(q->enqueue(Notify{"g", "kept", "", 1}), EnqueueResult::accepted);
}

TEST(QueueFile, CorruptFileIsRefusedNamingThePathAndLeftAlone) {
    TempDir dir;
    const std::string path = dir / "queue";
    std::string garbage(4096 + 8 * 512, '\0');
    for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 7 + 3);
    test::write_file(path, garbage);

    const std::string error = open_error(path, 8);
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find("bad magic"), std::string::npos) << error;
    EXPECT_EQ(test::read_file(path), garbage) << "the file was touched";
    EXPECT_NE(open_error(path, 0).find("bad magic"), std::string::npos);
}

TEST(QueueFile, TooSmallFileIsRefused) {
    TempDir dir;
    const std::string path = dir / "queue";
    test::write_file(path, "PSYNCQ");
    const std::string error = open_error(path, 8);
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find("too small"), std::string::npos) << error;
    EXPECT_EQ(test::read_file(path), "PSYNCQ");
}

TEST(QueueFile, OtherLayoutVersionIsRefused) {
    TempDir dir;
    const std::string path = dir / "queue";
    make_queue_with_one_entry(path, 8);
    const std::uint32_t version = 99;
    patch(path, 8, &version, sizeof version);  // after the 8-byte magic
    const std::string before = test::read_file(path);

    const std::string error = open_error(path, 8);
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find("version 99"), std::string::npos) << error;
    EXPECT_EQ(test::read_file(path), before);
}

TEST(QueueFile, OtherSizeIsRefused) {
    TempDir dir;
    const std::string path = dir / "queue";
    make_queue_with_one_entry(path, 8);
    const auto size = fs::file_size(path);

    fs::resize_file(path, size - 512);
    std::string error = open_error(path, 8);
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find("size is " + std::to_string(size - 512) + " bytes"), std::string::npos) << error;

    fs::resize_file(path, size + 4096);
    error = open_error(path, 0);
    EXPECT_NE(error.find("size is " + std::to_string(size + 4096) + " bytes"), std::string::npos) << error;
    EXPECT_EQ(fs::file_size(path), size + 4096) << "the file was touched";
}

TEST(QueueFile, OtherCapacityIsRefusedButOpensAsExisting) {
    TempDir dir;
    const std::string path = dir / "queue";
    make_queue_with_one_entry(path, 8);
    const std::string error = open_error(path, 16);
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find("capacity is 8, configured 16"), std::string::npos) << error;
    auto q = Queue::open_existing(path);
    EXPECT_EQ(q->capacity(), 8u);
    EXPECT_EQ(q->stats().depth, 1u);
}

TEST(QueueFile, MissingFileAndBadCapacityAreClearErrors) {
    TempDir dir;
    const std::string path = dir / "queue";
    EXPECT_NE(open_error(path, 0).find("does not exist"), std::string::npos);
    EXPECT_NE(open_error(path, 12).find("not a power of two"), std::string::npos);
    EXPECT_FALSE(fs::exists(path));
    const std::string nowhere = dir / "no-such-dir" / "queue";
    const std::string error = open_error(nowhere, 8);
    EXPECT_NE(error.find(nowhere), std::string::npos) << error;
}

TEST(QueueFile, RacingOpenersCreateExactlyOneFileAndLoseNothing) {
    TempDir dir;
    const std::string path = dir / "queue";
    constexpr int kOpeners = 8;
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    std::vector<ForkedChild> openers;
    for (int i = 0; i < kOpeners; ++i)
        openers.push_back(ForkedChild::start([&, i] {
            ::close(go[1]);
            char c;
            (void)!::read(go[0], &c, 1);  // all start when the parent closes the pipe
            auto q = Queue::open(path, 64);
            return q->enqueue(Notify{"g", std::to_string(i), "", i}) == EnqueueResult::accepted ? 0 : 1;
        }));
    ::close(go[0]);
    ::close(go[1]);
    for (auto& o : openers) EXPECT_EQ(o.wait(), 0);

    // Had anyone initialised over another's file, an entry would be missing.
    auto q = Queue::open(path, 64);
    EXPECT_EQ(q->stats().depth, static_cast<std::uint64_t>(kOpeners));
    EXPECT_EQ(q->peek(100).size(), static_cast<std::size_t>(kOpeners));
    int files = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++files;
    EXPECT_EQ(files, 1) << "temporary files left behind";
}

TEST(QueueFile, EntriesSurviveReopening) {
    TempDir dir;
    const std::string path = dir / "queue";
    make_queue_with_one_entry(path, 8);
    auto q = Queue::open(path, 8);
    std::vector<QueuedNotify> got;
    EXPECT_EQ(q->read(got, 10, 1s), 1u);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].tail, "kept");
}

TEST(QueueFile, ResetReplacesABrokenFileAndRetiresALiveOne) {
    TempDir dir;
    const std::string path = dir / "queue";
    test::write_file(path, "not a queue at all");
    Queue::reset(path, 16);
    auto fresh = Queue::open(path, 16);
    EXPECT_EQ(fresh->stats().depth, 0u);
    ASSERT_EQ(fresh->enqueue(Notify{"g", "old", "", 1}), EnqueueResult::accepted);

    Queue::reset(path, 32);
    EXPECT_TRUE(fresh->retired());
    EXPECT_EQ(fresh->enqueue(Notify{"g", "into-the-void", "", 1}), EnqueueResult::full)
        << "a retired file must not accept what nobody will read";
    std::vector<QueuedNotify> got;
    EXPECT_EQ(fresh->read(got, 10, 10s), 0u);

    auto reopened = Queue::open(path, 32);
    EXPECT_FALSE(reopened->retired());
    EXPECT_EQ(reopened->stats().depth, 0u);
    EXPECT_EQ(reopened->enqueue(Notify{"g", "new", "", 1}), EnqueueResult::accepted);
}

std::uint64_t unix_us() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

// Leaves a new file whose positions moved on from its start: `produced` claimed, `committed` of
// them committed, the rest published and waiting (in the ring, not yet in any outbox). Sets `end`
// to the position it reached (its start + `produced`).
void make_used_queue(const std::string& path, std::uint32_t capacity, std::uint64_t produced, std::uint64_t committed,
                     std::uint64_t& end) {
    auto q = Queue::open(path, capacity);
    const auto start = q->committed_position();
    ASSERT_EQ(q->stats().produced_position, start);
    std::vector<QueuedNotify> got;
    for (std::uint64_t p = start; p < start + produced; ++p) {
        if (p - q->committed_position() == capacity) {
            got.clear();
            ASSERT_EQ(q->read(got, capacity, 0ms), capacity);
            q->commit(got.back().position + 1);
        }
        ASSERT_EQ(q->enqueue(Notify{"old", std::to_string(p - start), "", 1}), EnqueueResult::accepted) << p;
    }
    got.clear();
    while (q->stats().read_position < start + produced) q->read(got, capacity, 0ms);
    q->commit(start + committed);
    ASSERT_EQ(q->stats().produced_position, start + produced);
    ASSERT_EQ(q->committed_position(), start + committed);
    end = start + produced;
}

// From an empty ring at `start`: `wraps` times round it, in uneven batches that fill it to the
// brim and commit partway, so each slot is reused at many offsets. Every entry is read exactly
// once, in order, at the next position.
void expect_rounds_from(Queue& q, std::uint64_t start, int wraps) {
    const std::uint32_t capacity = q.capacity();
    const std::uint64_t total = std::uint64_t{capacity} * static_cast<std::uint64_t>(wraps);
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    std::vector<QueuedNotify> got;
    for (std::uint64_t turn = 0; received < total; ++turn) {
        while (sent < total) {
            const auto r = q.enqueue(Notify{"new", std::to_string(sent), "", 2});
            if (r == EnqueueResult::full) break;
            ASSERT_EQ(r, EnqueueResult::accepted) << sent;
            ++sent;
        }
        EXPECT_EQ(q.stats().depth, sent - received);
        got.clear();
        q.read(got, 1 + turn % capacity, 0ms);
        ASSERT_FALSE(got.empty()) << "nothing to read at " << received;
        for (const auto& e : got) {
            ASSERT_EQ(e.position, start + received) << "lost or repeated";
            ASSERT_EQ(e.tail, std::to_string(received));
            ++received;
        }
        q.commit(got.back().position + 1);
    }
    const auto st = q.stats();
    EXPECT_EQ(st.depth, 0u);
    EXPECT_EQ(st.produced_position, start + total);
    EXPECT_EQ(st.committed_position, start + total);
    EXPECT_EQ(st.skipped_slots, 0u);
    EXPECT_EQ(st.passed_over, 0u);
}

// The sender keys its outbox by position: a reset file must never hand out a position the old
// file did, or a new notify would be taken for a redelivery of an old one and dropped.
TEST(QueueReset, ContinuesAboveTheOldFilesPositions) {
    TempDir dir;
    const std::string path = dir / "queue";
    constexpr std::uint32_t kCapacity = 8;
    std::uint64_t old_end = 0;
    make_used_queue(path, kCapacity, 37, 34, old_end);
    auto old = Queue::open(path, kCapacity);

    Queue::reset(path, kCapacity);
    EXPECT_TRUE(old->retired());
    auto q = Queue::open(path, kCapacity);
    const auto st = q->stats();
    EXPECT_GE(st.produced_position, old_end);
    EXPECT_EQ(st.produced_position % kCapacity, 0u);
    EXPECT_EQ(st.committed_position, st.produced_position);
    EXPECT_EQ(st.read_position, st.produced_position);
    EXPECT_EQ(st.depth, 0u);
    EXPECT_TRUE(q->peek(100).empty()) << "the old file's waiting entries must not reappear";
    EXPECT_EQ(st.oldest_enqueued_ms, 0);

    expect_rounds_from(*q, st.produced_position, 7);

    // Reset again: above everything this file handed out, too.
    const auto reached = q->stats().produced_position;
    q.reset();
    Queue::reset(path, kCapacity);
    q = Queue::open(path, kCapacity);
    EXPECT_GE(q->stats().produced_position, reached);
    EXPECT_EQ(q->stats().produced_position % kCapacity, 0u);
    expect_rounds_from(*q, q->stats().produced_position, 2);
}

// What reset exists for: a file nobody can read as a queue (or none at all) gives no position to
// continue from, so the new file starts above anything a file at this path plausibly used.
TEST(QueueReset, AnUnreadableOrMissingFileStartsAboveTheClockInMicroseconds) {
    TempDir dir;
    constexpr std::uint32_t kCapacity = 16;
    for (const std::string name : {"garbage", "wrong-size", "missing"}) {
        SCOPED_TRACE(name);
        const std::string path = dir / name;
        if (name == "garbage") {
            test::write_file(path, std::string(4096 + kCapacity * 512, '\x5a'));
        } else if (name == "wrong-size") {
            std::uint64_t end = 0;
            make_used_queue(path, kCapacity, 20, 20, end);
            fs::resize_file(path, fs::file_size(path) - 512);
        }
        const auto before_us = unix_us();
        Queue::reset(path, kCapacity);
        const auto after_us = unix_us();
        auto q = Queue::open(path, kCapacity);
        const auto start = q->stats().produced_position;
        EXPECT_GE(start, before_us);
        EXPECT_LT(start, after_us + kCapacity);
        EXPECT_EQ(start % kCapacity, 0u);
        EXPECT_EQ(q->committed_position(), start);
        expect_rounds_from(*q, start, 3);
    }
}

TEST(QueueReset, ToAnotherCapacityStartsAtAMultipleOfTheNewOne) {
    TempDir dir;
    struct Case {
        std::uint32_t from;
        std::uint32_t to;
        std::uint64_t produced;
        std::uint64_t committed;
    };
    for (const Case c : {Case{8, 32, 13, 10}, Case{64, 4, 70, 70}, Case{16, 1024, 1, 0}}) {
        SCOPED_TRACE(std::to_string(c.from) + " -> " + std::to_string(c.to));
        const std::string path = dir / ("queue-" + std::to_string(c.from));
        std::uint64_t old_end = 0;
        make_used_queue(path, c.from, c.produced, c.committed, old_end);
        Queue::reset(path, c.to);
        EXPECT_NE(open_error(path, c.from).find("capacity is " + std::to_string(c.to)), std::string::npos);
        auto q = Queue::open(path, c.to);
        const auto start = q->stats().produced_position;
        EXPECT_GE(start, old_end);
        EXPECT_EQ(start % c.to, 0u);
        expect_rounds_from(*q, start, 3);
    }
}

// A file created anew (queue.path on tmpfs after a reboot, or deleted by hand) has no position to
// continue from, yet the store's outbox may still hold ids from the file before it: it starts
// where reset does without a file, above anything used at this path before.
TEST(QueueFile, AFirstFileStartsAboveTheClockInMicroseconds) {
    TempDir dir;
    constexpr std::uint32_t kCapacity = 8;
    const std::string path = dir / "queue";
    const auto before_us = unix_us();
    auto q = Queue::open(path, kCapacity);
    const auto after_us = unix_us();
    const auto st = q->stats();
    EXPECT_GE(st.produced_position, before_us);
    EXPECT_LT(st.produced_position, after_us + kCapacity);
    EXPECT_EQ(st.produced_position % kCapacity, 0u);
    EXPECT_EQ(st.committed_position, st.produced_position);
    EXPECT_EQ(st.read_position, st.produced_position);
    EXPECT_EQ(st.depth, 0u);
    expect_rounds_from(*q, st.produced_position, 3);
}

TEST(QueueFile, OnlyOneConsumerAtATime) {
    TempDir dir;
    const std::string path = dir / "queue";
    auto first = Queue::open(path, 8);
    auto second = Queue::open(path, 8);
    std::vector<QueuedNotify> got;
    first->read(got, 1, 0ms);
    try {
        second->read(got, 1, 0ms);
        ADD_FAILURE() << "a second consumer was allowed";
    } catch (const QueueError& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    first.reset();  // the consumer goes away: another may take over
    EXPECT_NO_THROW(second->read(got, 1, 0ms));
}

TEST(QueueFile, CountersAndHeartbeatAreSharedThroughTheFile) {
    TempDir dir;
    const std::string path = dir / "queue";
    auto a = Queue::open(path, 8);
    auto b = Queue::open(path, 8);
    a->add(Counter::notifies_accepted, 3);
    b->add(Counter::notifies_accepted);
    b->add(Counter::pushes_sent, 7);
    a->heartbeat(123456);
    const auto st = b->stats();
    EXPECT_EQ(st.counters[static_cast<unsigned>(Counter::notifies_accepted)], 4u);
    EXPECT_EQ(st.counters[static_cast<unsigned>(Counter::pushes_sent)], 7u);
    EXPECT_EQ(st.consumer_heartbeat_ms, 123456);
    EXPECT_EQ(st.capacity, 8u);
    EXPECT_GT(st.created_ms, 0);
}

}  // namespace
}  // namespace pushsync

namespace pushsync {
namespace {

// A field longer than its slot is refused whole: no position taken, nothing stored cut short.
TEST(QueueEnqueue, OverlongFieldIsInvalidAndWritesNothing) {
    TempDir dir;
    auto q = Queue::open(dir / "queue", 8);
    const std::string group(128, 'g');
    const std::string tail(128, 't');
    const std::string origin(200, 'a');
    ASSERT_EQ(q->enqueue(Notify{group, tail, origin, 1}), EnqueueResult::accepted);  // the limits themselves fit

    const QueueStats before = q->stats();
    EXPECT_EQ(q->enqueue(Notify{group + "g", tail, origin, 2}), EnqueueResult::invalid);
    EXPECT_EQ(q->enqueue(Notify{group, tail + "t", origin, 3}), EnqueueResult::invalid);
    EXPECT_EQ(q->enqueue(Notify{group, tail, origin + "a", 4}), EnqueueResult::invalid);
    const QueueStats after = q->stats();
    EXPECT_EQ(after.produced_position, before.produced_position);
    EXPECT_EQ(after.depth, before.depth);
    EXPECT_EQ(after.full_rejections, before.full_rejections);
    EXPECT_EQ(after.passed_over, before.passed_over);

    ASSERT_EQ(q->enqueue(Notify{"g", "next", "", 5}), EnqueueResult::accepted);
    const auto entries = q->peek(8);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].group, group);
    EXPECT_EQ(entries[0].tail, tail);
    EXPECT_EQ(entries[0].origin, origin);
    EXPECT_EQ(entries[1].tail, "next");
    EXPECT_EQ(entries[1].enqueued_ms, 5);
}

}  // namespace
}  // namespace pushsync
