// SPDX-License-Identifier: BSD-2-Clause
// The queue between real processes: producers and the consumer are forked children mapping the
// same file, as nginx workers and the sender do.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "shared/queue/queue.hpp"
#include "shared/queue/testing.hpp"
#include "tests/shared/queue/forked_child.hpp"
#include "tests/support/process.hpp"

namespace pushsync {
namespace {

using namespace std::chrono_literals;
using test::ForkedChild;
using test::TempDir;

constexpr int kExitPassedOver = 7;
constexpr int kExitFull = 8;

std::string origin_for(int producer, int seq) {
    // A token-sized origin on every other entry, none on the rest: both shapes travel.
    if (seq % 2 != 0) return {};
    std::string s = std::to_string(producer) + "f" + std::to_string(seq);
    s.resize(64, 'a');
    return s;
}

// Appended rather than written "p" + std::to_string(producer): g++ 12 at -O3 reports a false
// -Wrestrict overlap inside operator+(const char*, std::string&&) (GCC bug 105651).
std::string producer_group(int producer) { return std::string("p").append(std::to_string(producer)); }

enum class OnPassedOver { fail, retry };

// Enqueues `count` entries group "p<producer>", tail "<seq>", retrying while the ring is full.
// Exit code 0, or kExitPassedOver if an entry was not taken and `on_passed_over` says fail. A
// producer descheduled for longer than the stall bound between claim and publish is passed over
// (the worker answers 503); where the test's subject is another producer, such a producer retries
// as an HTTP client would, and the counters account for it.
int produce(const std::string& path, std::uint32_t capacity, int producer, int count,
            OnPassedOver on_passed_over = OnPassedOver::fail) {
    auto queue = Queue::open(path, capacity);
    const std::string group = producer_group(producer);
    for (int seq = 0; seq < count; ++seq) {
        const std::string tail = std::to_string(seq);
        const std::string origin = origin_for(producer, seq);
        for (;;) {
            const auto r = queue->enqueue(Notify{group, tail, origin, 1000 + seq});
            if (r == EnqueueResult::accepted) break;
            if (r == EnqueueResult::passed_over && on_passed_over == OnPassedOver::fail) return kExitPassedOver;
            sched_yield();  // full: the consumer is behind; a worker would answer 503 here
        }
    }
    return 0;
}

// What a consumer saw, checked per producer: every entry once, in order, intact.
struct Received {
    std::map<std::string, int> next_seq;  // group -> next expected tail
    long total = 0;
    long errors = 0;
    std::string first_error;

    void take(const QueuedNotify& e) {
        ++total;
        const int seq = std::stoi(e.tail);
        int& expected = next_seq[e.group];
        const int producer = e.group.size() > 1 ? std::atoi(e.group.c_str() + 1) : -1;
        if (seq != expected || e.origin != origin_for(producer, seq) || e.enqueued_ms != 1000 + seq) {
            if (errors++ == 0)
                first_error = "group " + e.group + " tail " + e.tail + " expected " + std::to_string(expected) +
                              " origin '" + e.origin + "'";
        }
        expected = seq + 1;
    }
    std::string summary() const {
        std::ostringstream out;
        out << "total " << total << " errors " << errors << " first_error " << first_error << "\n";
        for (const auto& [group, next] : next_seq) out << group << " " << next << "\n";
        return out.str();
    }
};

// Reads and commits batch by batch until `expected` entries arrived (or 60 s passed), then writes
// a summary to `report`.
int consume(const std::string& path, std::uint32_t capacity, long expected, const std::string& report,
            std::chrono::milliseconds stall_bound) {
    auto queue = Queue::open(path, capacity, QueueOptions{stall_bound});
    constexpr std::size_t batch = 256;
    Received received;
    std::vector<QueuedNotify> entries;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (received.total < expected && std::chrono::steady_clock::now() < deadline) {
        entries.clear();
        queue->read(entries, batch, 200ms);
        for (const auto& e : entries) received.take(e);
        if (!entries.empty()) queue->commit(entries.back().position + 1);
    }
    test::write_file(report, received.summary());
    return received.total == expected && received.errors == 0 ? 0 : 1;
}

std::string expect_line(int producer, int count) { return producer_group(producer) + " " + std::to_string(count) + "\n"; }

class QueueManyProducers : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(QueueManyProducers, EveryEntryExactlyOnceAndInOrderPerProducer) {
    TempDir dir;
    const std::string path = dir / "queue";
    const std::uint32_t capacity = GetParam();
    constexpr int kProducers = 4;
    constexpr int kPerProducer = 100'000;
    auto created = Queue::open(path, capacity);
    const auto start = created->committed_position();

    auto consumer = ForkedChild::start(
        // A long stall bound: no producer is ever passed over, even on a loaded machine, so every
        // entry must arrive (this test is about order and exactly-once, not about stalls).
        [&] { return consume(path, capacity, long{kProducers} * kPerProducer, dir / "report", 30s); });
    std::vector<ForkedChild> producers;
    for (int i = 0; i < kProducers; ++i)
        producers.push_back(ForkedChild::start([&, i] { return produce(path, capacity, i, kPerProducer); }));
    for (auto& p : producers) EXPECT_EQ(p.wait(60s), 0) << "a producer failed or was passed over";
    EXPECT_EQ(consumer.wait(60s), 0) << test::read_file(dir / "report");

    const std::string report = test::read_file(dir / "report");
    EXPECT_NE(report.find("total 400000 errors 0 "), std::string::npos) << report;
    for (int i = 0; i < kProducers; ++i) EXPECT_NE(report.find(expect_line(i, kPerProducer)), std::string::npos) << report;
    const auto st = created->stats();
    EXPECT_EQ(st.depth, 0u);
    EXPECT_EQ(st.produced_position, start + 400'000u);
    EXPECT_EQ(st.committed_position, start + 400'000u);
    EXPECT_EQ(st.skipped_slots, 0u);
    EXPECT_EQ(st.passed_over, 0u);
}

INSTANTIATE_TEST_SUITE_P(Capacities, QueueManyProducers, ::testing::Values(8u, 65536u));

// A file `pushsyncctl queue reset` replaced one that was used: its positions (and so every slot's
// round) continue above the used file's. Returns the first position.
std::uint64_t make_reset_file(const std::string& path, std::uint32_t capacity) {
    std::uint64_t used_end = 0;
    {
        auto q = Queue::open(path, capacity);
        for (int i = 0; i < 5; ++i) q->enqueue(Notify{"before-reset", std::to_string(i), "", 1});
        std::vector<QueuedNotify> got;
        q->read(got, 3, 0ms);
        if (!got.empty()) q->commit(got.back().position + 1);
        used_end = q->stats().produced_position;
    }
    Queue::reset(path, capacity);
    const auto start = Queue::open(path, capacity)->stats().produced_position;
    EXPECT_GT(start, used_end);
    return start;
}

// A producer killed between claim and publish: the consumer passes the slot after the bound and
// every later entry arrives.
void killed_producer_does_not_stop_the_ring(const TempDir& dir, const std::string& path, std::uint64_t start) {
    constexpr std::uint32_t kCapacity = 8;
    auto queue = Queue::open(path, kCapacity);

    auto victim = ForkedChild::start([&] {
        auto q = Queue::open(path, kCapacity);
        QueueTestAccess::enqueue_pausing(*q, Notify{"victim", "0", "", 1}, [] { ::raise(SIGSTOP); });
        return 0;
    });
    ASSERT_TRUE(victim.wait_stopped()) << "the victim never claimed";
    EXPECT_EQ(queue->stats().produced_position, start + 1);

    auto consumer = ForkedChild::start([&] { return consume(path, kCapacity, 2 * 1000, dir / "report", 100ms); });
    auto p1 = ForkedChild::start([&] { return produce(path, kCapacity, 1, 1000, OnPassedOver::retry); });
    auto p2 = ForkedChild::start([&] { return produce(path, kCapacity, 2, 1000, OnPassedOver::retry); });
    EXPECT_EQ(victim.kill_and_reap(), 128 + SIGKILL);  // reaped: its pid is gone, not a zombie

    EXPECT_EQ(p1.wait(), 0);
    EXPECT_EQ(p2.wait(), 0);
    EXPECT_EQ(consumer.wait(), 0) << test::read_file(dir / "report");
    const std::string report = test::read_file(dir / "report");
    EXPECT_NE(report.find("total 2000 errors 0 "), std::string::npos) << report;
    EXPECT_EQ(report.find("victim"), std::string::npos) << "a never-published entry was delivered: " << report;
    const auto st = queue->stats();
    // The victim's slot, plus one per retried pass-over of a descheduled producer (normally none).
    EXPECT_EQ(st.skipped_slots, 1 + st.passed_over);
    EXPECT_EQ(st.depth, 0u);
    EXPECT_EQ(st.committed_position, start + 2001u + st.passed_over + st.quarantined_slots);
}

TEST(QueueProducerCrash, KilledAfterClaimDoesNotStopTheRing) {
    TempDir dir;
    const std::string path = dir / "queue";
    const auto start = Queue::open(path, 8)->committed_position();
    killed_producer_does_not_stop_the_ring(dir, path, start);
}

TEST(QueueProducerCrash, KilledAfterClaimDoesNotStopTheRingOfAResetFile) {
    TempDir dir;
    const std::string path = dir / "queue";
    const auto start = make_reset_file(path, 8);
    killed_producer_does_not_stop_the_ring(dir, path, start);
}

// A producer stopped between claim and publish until the consumer passed it: the ring goes on
// around its slot (quarantined while it lives), and when it resumes it learns passed_over.
void stalled_producer_is_passed_over(const TempDir& dir, const std::string& path, std::uint64_t start) {
    constexpr std::uint32_t kCapacity = 8;
    auto queue = Queue::open(path, kCapacity);

    auto victim = ForkedChild::start([&] {
        auto q = Queue::open(path, kCapacity);
        const auto r = QueueTestAccess::enqueue_pausing(*q, Notify{"victim", "0", "", 1}, [] { ::raise(SIGSTOP); });
        return r == EnqueueResult::passed_over ? kExitPassedOver : r == EnqueueResult::full ? kExitFull : 0;
    });
    ASSERT_TRUE(victim.wait_stopped()) << "the victim never claimed";

    constexpr int kLate = 16;
    auto consumer =
        ForkedChild::start([&] { return consume(path, kCapacity, 2 * 1000 + kLate, dir / "report", 100ms); });
    auto p1 = ForkedChild::start([&] { return produce(path, kCapacity, 1, 1000, OnPassedOver::retry); });
    auto p2 = ForkedChild::start([&] { return produce(path, kCapacity, 2, 1000, OnPassedOver::retry); });
    EXPECT_EQ(p1.wait(), 0);
    EXPECT_EQ(p2.wait(), 0);
    // 2000 entries went round a ring of 8 while the victim held its slot's bytes.
    EXPECT_GE(queue->stats().quarantined_slots, 1u);

    victim.signal(SIGCONT);
    EXPECT_EQ(victim.wait(), kExitPassedOver);
    // Its slot is released again: later entries use the whole ring.
    EXPECT_EQ(produce(path, kCapacity, 3, kLate, OnPassedOver::retry), 0);
    EXPECT_EQ(consumer.wait(), 0) << test::read_file(dir / "report");
    const std::string report = test::read_file(dir / "report");
    EXPECT_NE(report.find("total 2016 errors 0 "), std::string::npos) << report;
    EXPECT_NE(report.find(expect_line(3, kLate)), std::string::npos) << report;
    EXPECT_EQ(report.find("victim"), std::string::npos) << report;
    const auto st = queue->stats();
    EXPECT_GE(st.passed_over, 1u);  // the victim's, plus any retried (normally none)
    EXPECT_EQ(st.skipped_slots, st.passed_over);
    EXPECT_EQ(st.depth, 0u);
    EXPECT_GE(st.committed_position, start + 2016u + st.passed_over);
}

TEST(QueueProducerCrash, StalledProducerIsToldPassedOverAndTheRingGoesOn) {
    TempDir dir;
    const std::string path = dir / "queue";
    const auto start = Queue::open(path, 8)->committed_position();
    stalled_producer_is_passed_over(dir, path, start);
}

TEST(QueueProducerCrash, StalledProducerIsToldPassedOverAndTheRingOfAResetFileGoesOn) {
    TempDir dir;
    const std::string path = dir / "queue";
    const auto start = make_reset_file(path, 8);
    stalled_producer_is_passed_over(dir, path, start);
}

// A consumer killed after reading, before committing: the next consumer gets those entries again.
TEST(QueueConsumerCrash, UncommittedEntriesAreReadAgain) {
    TempDir dir;
    const std::string path = dir / "queue";
    constexpr std::uint32_t kCapacity = 64;
    auto queue = Queue::open(path, kCapacity);
    const auto start = queue->committed_position();
    ASSERT_EQ(produce(path, kCapacity, 0, 10), 0);

    auto first = ForkedChild::start([&] {
        auto q = Queue::open(path, kCapacity);
        std::vector<QueuedNotify> got;
        while (got.size() < 10) q->read(got, 10 - got.size(), 1s);
        q->commit(got[4].position);  // entries 0..3 are safe elsewhere, 4..9 only read
        ::raise(SIGSTOP);
        return 0;
    });
    ASSERT_TRUE(first.wait_stopped());
    EXPECT_EQ(queue->stats().read_position, start + 10);
    EXPECT_EQ(queue->committed_position(), start + 4);
    EXPECT_EQ(first.kill_and_reap(), 128 + SIGKILL);

    auto second = ForkedChild::start([&] {
        auto q = Queue::open(path, kCapacity);
        std::vector<QueuedNotify> got;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline && got.size() < 6) q->read(got, 100, 100ms);
        std::string out;
        for (const auto& e : got) out += std::to_string(e.position - start) + ":" + e.tail + " ";
        test::write_file(dir / "second", out);
        q->commit(got.back().position + 1);
        return 0;
    });
    EXPECT_EQ(second.wait(), 0);
    EXPECT_EQ(test::read_file(dir / "second"), "4:4 5:5 6:6 7:7 8:8 9:9 ");
    EXPECT_EQ(queue->stats().depth, 0u);
}

// A consumer killed inside commit(), after handing the slots on and before moving the committed
// position: those entries were safe elsewhere already; the next consumer passes them at once
// (without waiting out the stall bound on each) and receives what follows.
TEST(QueueConsumerCrash, KilledInsideCommitNeitherRedeliversNorStalls) {
    TempDir dir;
    const std::string path = dir / "queue";
    constexpr std::uint32_t kCapacity = 8;
    auto queue = Queue::open(path, kCapacity);
    const auto start = queue->committed_position();
    ASSERT_EQ(produce(path, kCapacity, 0, 5), 0);

    auto first = ForkedChild::start([&] {
        auto q = Queue::open(path, kCapacity);
        std::vector<QueuedNotify> got;
        while (got.size() < 5) q->read(got, 5 - got.size(), 1s);
        QueueTestAccess::commit_pausing(*q, got.back().position + 1, [] { ::raise(SIGSTOP); });
        return 0;
    });
    ASSERT_TRUE(first.wait_stopped());
    EXPECT_EQ(queue->committed_position(), start);
    EXPECT_EQ(first.kill_and_reap(), 128 + SIGKILL);

    // A stall bound far beyond the test's patience: passing those slots must not depend on it.
    auto second = ForkedChild::start([&] {
        auto q = Queue::open(path, kCapacity, QueueOptions{std::chrono::hours(1)});
        std::vector<QueuedNotify> got;
        while (got.size() < 3) q->read(got, 100, 1s);
        std::string out;
        for (const auto& e : got) out += std::to_string(e.position - start) + ":" + e.group + "/" + e.tail + " ";
        test::write_file(dir / "second", out);
        q->commit(got.back().position + 1);
        return 0;
    });
    ASSERT_EQ(produce(path, kCapacity, 1, 3), 0);
    EXPECT_EQ(second.wait(), 0);
    EXPECT_EQ(test::read_file(dir / "second"), "5:p1/0 6:p1/1 7:p1/2 ");
    const auto st = queue->stats();
    EXPECT_EQ(st.skipped_slots, 0u);
    EXPECT_EQ(st.depth, 0u);
    EXPECT_EQ(st.committed_position, start + 8);
}

// An idle consumer sleeps on the futex (no CPU) and an entry wakes it.
TEST(QueueIdleConsumer, UsesNoCpuAndWakesForAnEntry) {
    TempDir dir;
    const std::string path = dir / "queue";
    constexpr std::uint32_t kCapacity = 64;
    auto queue = Queue::open(path, kCapacity);

    auto consumer = ForkedChild::start([&] {
        auto q = Queue::open(path, kCapacity);
        std::vector<QueuedNotify> got;
        rusage before{};
        ::getrusage(RUSAGE_SELF, &before);
        const auto start = std::chrono::steady_clock::now();
        while (std::chrono::steady_clock::now() - start < 1s) q->read(got, 10, 1s);
        rusage after{};
        ::getrusage(RUSAGE_SELF, &after);
        const auto us = [](const timeval& t) { return t.tv_sec * 1'000'000L + t.tv_usec; };
        const long cpu_us = us(after.ru_utime) - us(before.ru_utime) + us(after.ru_stime) - us(before.ru_stime);
        test::write_file(dir / "cpu", std::to_string(cpu_us));
        // Now wait for the parent's entry, however long it takes.
        while (got.empty()) q->read(got, 10, 60s);
        test::write_file(dir / "woke", got.front().tail);
        return got.size() == 1 && got.front().tail == "wake-up" ? 0 : 1;
    });
    ASSERT_TRUE(test::wait_until([&] { return !test::read_file(dir / "cpu").empty(); }, 20s));
    const long cpu_us = std::stol(test::read_file(dir / "cpu"));
    // A polling consumer would burn most of the second; a sleeping one only its wake-ups.
    EXPECT_LT(cpu_us, 50'000) << "CPU time of an idle consumer over one second, µs";

    ASSERT_TRUE(test::wait_until([&] { return queue->stats().consumer_sleeping; }, 20s));
    const auto wakes_before = queue->stats().producer_wakes;
    ASSERT_EQ(queue->enqueue(Notify{"g", "wake-up", "", 5}), EnqueueResult::accepted);
    EXPECT_EQ(consumer.wait(), 0);
    EXPECT_EQ(test::read_file(dir / "woke"), "wake-up");
    EXPECT_EQ(queue->stats().producer_wakes, wakes_before + 1);
}

// A consumer that is not asleep (busy, here: stopped mid-batch) costs producers no syscall.
TEST(QueueIdleConsumer, ProducersMakeNoWakeCallWhileTheConsumerIsAwake) {
    TempDir dir;
    const std::string path = dir / "queue";
    constexpr std::uint32_t kCapacity = 4096;
    auto queue = Queue::open(path, kCapacity);
    auto consumer = ForkedChild::start([&] {
        auto q = Queue::open(path, kCapacity);
        std::vector<QueuedNotify> got;
        q->read(got, 1, 0ms);  // the consumer, awake
        ::raise(SIGSTOP);      // busy elsewhere (e.g. writing the outbox) while producers go on
        while (got.size() < 3000) q->read(got, 4096, 1s);
        q->commit(got.back().position + 1);
        return got.size() == 3000 ? 0 : 1;
    });
    ASSERT_TRUE(consumer.wait_stopped());
    EXPECT_FALSE(queue->stats().consumer_sleeping);
    std::vector<ForkedChild> producers;
    for (int i = 0; i < 3; ++i) producers.push_back(ForkedChild::start([&, i] { return produce(path, kCapacity, i, 1000); }));
    for (auto& p : producers) EXPECT_EQ(p.wait(), 0);
    EXPECT_EQ(queue->stats().producer_wakes, 0u) << "3000 entries to an awake consumer";
    consumer.signal(SIGCONT);
    EXPECT_EQ(consumer.wait(), 0);
}

// A full ring: enqueue says full at once and overwrites nothing.
TEST(QueueFull, RefusesWithoutBlockingOrOverwriting) {
    TempDir dir;
    const std::string path = dir / "queue";
    constexpr std::uint32_t kCapacity = 8;
    auto queue = Queue::open(path, kCapacity);
    // From another process, as a worker would.
    auto producer = ForkedChild::start([&] {
        auto q = Queue::open(path, kCapacity);
        for (int i = 0; i < 8; ++i)
            if (q->enqueue(Notify{"g", std::to_string(i), "", 100 + i}) != EnqueueResult::accepted) return 1;
        for (int i = 8; i < 20; ++i)
            if (q->enqueue(Notify{"g", std::to_string(i), "", 100 + i}) != EnqueueResult::full) return 2;
        return 0;
    });
    EXPECT_EQ(producer.wait(), 0);
    auto st = queue->stats();
    EXPECT_EQ(st.depth, 8u);
    EXPECT_EQ(st.full_rejections, 12u);
    EXPECT_EQ(st.oldest_enqueued_ms, 100);

    const auto entries = queue->peek(100);
    ASSERT_EQ(entries.size(), 8u);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(entries[i].tail, std::to_string(i));

    // The consumer takes and commits them; then there is room again.
    auto consumer = ForkedChild::start([&] {
        auto q = Queue::open(path, kCapacity);
        std::vector<QueuedNotify> got;
        while (got.size() < 8) q->read(got, 8, 1s);
        for (int i = 0; i < 8; ++i)
            if (got[i].tail != std::to_string(i)) return 1;
        q->commit(got.back().position + 1);
        return 0;
    });
    EXPECT_EQ(consumer.wait(), 0);
    EXPECT_EQ(queue->enqueue(Notify{"g", "after", "", 99}), EnqueueResult::accepted);
    EXPECT_EQ(queue->stats().depth, 1u);
}

}  // namespace
}  // namespace pushsync
