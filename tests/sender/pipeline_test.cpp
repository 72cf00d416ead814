// SPDX-License-Identifier: BSD-2-Clause
// The stages wired together: the real store and queue, the fake transport, the fake clock; then
// the consumer thread and the libev daemon with the fake transport answering.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include <lmdb.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sender/intake/consumer.hpp"
#include "sender/daemon/daemon.hpp"
#include "sender/pipeline.hpp"
#include "tests/sender/fakes.hpp"
#include "tests/sender/harness.hpp"

namespace pushsync::sender {
namespace {

using pushsync::test::wait_until;

std::vector<std::uint64_t> outbox_ids(const Store& store) {
    std::vector<std::uint64_t> ids;
    for (const auto& e : store.outbox_load(0)) ids.push_back(e.id);
    return ids;
}

struct PipelineTest : ::testing::Test {
    explicit PipelineTest(const std::string& delivery = "  coalesce_ms: 200\n  max_attempts: 3\n  retry_base_ms: 100\n")
        : h(delivery) {}
    test::Harness h;
    test::FakeClock clock;
    test::FakeRandom random;
    TimerQueue timers{clock};
    Logger log{LogLevel::error, [](std::string_view) {}};
    std::map<Counter, std::uint64_t> counters;
    test::FakeTransports transports;
    std::unique_ptr<Pipeline> pipeline;

    void make() {
        pipeline = std::make_unique<Pipeline>(
            h.config, Pipeline::Deps{*h.store, timers, random, log,
                                     [this](Counter c, std::uint64_t n) { counters[c] += n; }, transports.factory()});
    }
    test::FakeTransport& prod() { return *transports.all.at(*pipeline->routes().find("com.example.app", Environment::production)); }
    void advance(std::int64_t ms) {
        clock.now += ms;
        timers.run_due();
    }
    void put(std::vector<OutboxEntry> entries, bool accept = true) {
        h.store->outbox_put(entries);
        if (accept) pipeline->accept(entries);
    }
};

TEST_F(PipelineTest, FiveNotifiesWithinCoalesceMsGiveOnePushPerDeviceWithTheNewestTail) {
    h.add(test::token_a, "g");
    h.add(test::token_b, "g");
    h.add(test::token_c, "g");
    make();
    for (std::uint64_t i = 1; i <= 5; ++i) {
        put({{i, "g", "T" + std::to_string(i), i == 5 ? test::token_a : "", 0}});
        advance(20);
    }
    EXPECT_EQ(prod().sent, 0u);
    advance(200);
    ASSERT_EQ(prod().waiting.size(), 2u);  // b and c; a was the newest notify's origin
    for (const auto& request : prod().waiting) {
        EXPECT_NE(request.token, test::token_a);
        EXPECT_EQ(request.payload, silent_payload("T5"));
    }
    prod().answer_all(200);
    pipeline->flush();
    EXPECT_TRUE(outbox_ids(*h.store).empty());
    EXPECT_EQ(counters[Counter::pushes_sent], 2u);
}

TEST_F(PipelineTest, TheOutboxKeepsEntriesUntilEveryPushOfTheirRoundIsFinished) {
    h.add(test::token_a, "g");
    h.add(test::token_b, "g");
    make();
    put({{1, "g", "T1", "", 0}});
    advance(200);
    prod().answer(200);
    pipeline->flush();
    EXPECT_EQ(outbox_ids(*h.store), std::vector<std::uint64_t>{1});
    prod().answer(503);
    advance(1000);
    prod().answer(200);
    pipeline->flush();
    EXPECT_TRUE(outbox_ids(*h.store).empty());
}

TEST_F(PipelineTest, RecoverMergesEachGroupsLeftoversIntoOneRoundAndIgnoresRedeliveries) {
    h.add(test::token_a, "g");
    h.add(test::token_b, "g");
    h.add(test::token_c, "h");
    h.store->outbox_put(std::vector<OutboxEntry>{
        {10, "g", "old", "", 0}, {11, "h", "h1", "", 0}, {12, "g", "new", test::token_b, 0}});
    make();
    EXPECT_EQ(pipeline->recover(), 3u);
    ASSERT_EQ(prod().waiting.size(), 2u);  // a gets g's newest, b was its origin; c gets h1
    std::map<std::string, std::string> got;
    for (const auto& r : prod().waiting) got[r.token] = r.payload;
    EXPECT_EQ(got[test::token_a], silent_payload("new"));
    EXPECT_EQ(got[test::token_c], silent_payload("h1"));
    // The queue hands over entry 12 again (the sender died before committing it): no second round.
    pipeline->accept({{12, "g", "new", test::token_b, 0}});
    advance(1000);
    EXPECT_EQ(prod().sent, 2u);
    prod().answer_all(200);
    pipeline->flush();
    EXPECT_TRUE(outbox_ids(*h.store).empty());
}

TEST_F(PipelineTest, DevicesOfAnAppNoLongerConfiguredAreCountedFailed) {
    h.add(test::token_a, "g", "com.example.gone");
    h.add(test::token_b, "g", "com.example.other", Environment::sandbox);
    make();
    put({{1, "g", "T1", "", 0}});
    advance(200);
    EXPECT_EQ(counters[Counter::pushes_failed], 2u);
    pipeline->flush();
    EXPECT_TRUE(outbox_ids(*h.store).empty());
}

TEST_F(PipelineTest, StopLeavesUnfinishedWorkInTheOutbox) {
    h.add(test::token_a, "g");
    make();
    put({{1, "g", "T1", "", 0}});
    put({{2, "h", "T2", "", 0}});  // still coalescing when the stop comes
    advance(200);
    put({{3, "g", "T3", "", 0}});
    pipeline->stop(1000);
    advance(1000);
    prod().answer(0, "Shutdown");
    pipeline->flush();
    EXPECT_TRUE(pipeline->drained());
    EXPECT_EQ(outbox_ids(*h.store), (std::vector<std::uint64_t>{1, 3}));
}

std::string numbered_token(std::uint64_t n) {
    char buf[65];
    std::snprintf(buf, sizeof buf, "%064llx", static_cast<unsigned long long>(n));
    return buf;
}

// Devices 1..n (token numbers from `first`) in one transaction.
void add_group(Store& store, const std::string& group, std::uint64_t first, std::uint64_t n) {
    std::vector<Registration> batch;
    for (std::uint64_t i = 0; i < n; ++i)
        batch.push_back(Registration{numbered_token(first + i), group, "com.example.app", Environment::production, ""});
    store.register_devices(batch, 1'700'000'000'000);
}

TEST_F(PipelineTest, AHugeGroupFansOutAPageAtATimeAndASmallGroupGetsATurnBeforeItEnds) {
    const std::uint64_t big = 5 * Pipeline::fanout_page;
    add_group(*h.store, "big", 1, big);
    add_group(*h.store, "small", big + 1, 1);
    make();
    put({{1, "big", "B1", "", 0}});
    put({{2, "small", "S1", "", 0}});
    advance(200);
    // Only what the window and a backlog hold is out of the store; the rest is still to expand.
    // The small round had its first (and only) page at once.
    EXPECT_LT(prod().sent + pipeline->dispatcher().backlog(), big);
    EXPECT_EQ(pipeline->expanding(), 1u);
    std::map<std::string, int> pushes;
    std::uint64_t big_sent_before_small = 0;
    while (!prod().waiting.empty()) {
        for (int i = 0; i < 500 && !prod().waiting.empty(); ++i) {
            const PushRequest request = prod().answer(200);
            ++pushes[request.token];
            if (request.token == numbered_token(big + 1)) big_sent_before_small = pushes.size() - 1;
            EXPECT_EQ(request.payload, silent_payload(request.token == numbered_token(big + 1) ? "S1" : "B1"));
        }
        pipeline->flush();
    }
    EXPECT_EQ(pushes.size(), big + 1);  // every device once
    for (const auto& [token, n] : pushes) EXPECT_EQ(n, 1) << token;
    EXPECT_GT(big_sent_before_small, 0u);
    EXPECT_LT(big_sent_before_small, big);  // not behind the whole big group
    EXPECT_EQ(pipeline->expanding(), 0u);
    pipeline->flush();
    EXPECT_TRUE(outbox_ids(*h.store).empty());
}

TEST_F(PipelineTest, ANewerRoundTakesOverTheDevicesAnExpandingOlderRoundHasNotReached) {
    const std::uint64_t big = 6 * Pipeline::fanout_page;
    add_group(*h.store, "g", 1, big);
    make();
    put({{1, "g", "T1", "", 0}});
    advance(200);
    ASSERT_EQ(pipeline->expanding(), 1u);
    put({{2, "g", "T2", "", 0}});
    advance(200);
    std::map<std::string, std::vector<std::string>> tails;  // per device, in send order
    while (!prod().waiting.empty()) {
        const PushRequest request = prod().answer(200);
        tails[request.token].push_back(request.payload);
        if (prod().waiting.empty()) pipeline->flush();
    }
    ASSERT_EQ(tails.size(), big);
    std::size_t got_both = 0;
    for (const auto& [token, sent] : tails) {
        EXPECT_EQ(sent.back(), silent_payload("T2")) << token;  // the newest tail last, always
        if (sent.size() == 2) ++got_both;
    }
    EXPECT_LT(got_both, big);  // T1 never reached the devices after its expansion stopped
    pipeline->flush();
    EXPECT_TRUE(outbox_ids(*h.store).empty());
}

// ---- the consumer thread and the daemon, with the real queue --------------------------------

// What a QueueConsumer handed to the loop (its thread adds, the test reads).
class Handed {
public:
    QueueConsumer::Handoff sink() {
        return [this](std::vector<OutboxEntry> entries) {
            std::lock_guard lock(mutex_);
            entries_.insert(entries_.end(), entries.begin(), entries.end());
        };
    }
    std::vector<OutboxEntry> entries() const {
        std::lock_guard lock(mutex_);
        return entries_;
    }
    std::vector<std::uint64_t> ids() const {
        std::vector<std::uint64_t> ids;
        for (const auto& entry : entries()) ids.push_back(entry.id);
        return ids;
    }

private:
    mutable std::mutex mutex_;
    std::vector<OutboxEntry> entries_;
};

// A consumer's world: the real queue and store, what it handed over, what it reported stored.
struct QueueConsumerTest : ::testing::Test {
    test::Harness h;
    std::unique_ptr<Queue> queue = Queue::open(h.config.queue.path, h.config.queue.capacity);
    Logger log{LogLevel::error, [](std::string_view) {}};
    Handed handed;
    std::atomic<std::uint64_t> stored_below{0};
    QueueConsumer::Stored record_stored() {
        return [this](std::uint64_t below) { stored_below = below; };
    }
};

TEST_F(QueueConsumerTest, HandsBatchesOnAtOnceThenStoresAndCommitsThemAndSaysSo) {
    QueueConsumer consumer(*queue, *h.store, log, handed.sink(), [&](std::uint64_t below) {
        // Reported only once the entries are in the outbox and the queue is committed past them.
        std::size_t in_outbox = 0;
        for (const auto& e : h.store->outbox_load(0)) in_outbox += e.id < below;
        std::size_t handed_below = 0;
        for (const auto id : handed.ids()) handed_below += id < below;
        EXPECT_EQ(in_outbox, handed_below);
        EXPECT_GT(handed_below, 0u);  // handed over before they were stored
        EXPECT_EQ(queue->stats().committed_position, below);
        stored_below = below;
    });
    consumer.start();
    for (int i = 0; i < 10; ++i) {
        const std::string tail = "T" + std::to_string(i);
        ASSERT_EQ(queue->enqueue(Notify{"g", tail, i == 9 ? test::token_a : "", 42}), EnqueueResult::accepted);
    }
    ASSERT_TRUE(wait_until([&] {
        const auto ids = handed.ids();
        return ids.size() == 10 && stored_below.load() == ids.back() + 1;
    }));
    consumer.stop();
    const OutboxEntry last = handed.entries().at(9);
    EXPECT_EQ(last.tail, "T9");
    EXPECT_EQ(last.origin, test::token_a);
    EXPECT_EQ(last.enqueued_ms, 42);
    EXPECT_EQ(h.store->outbox_load(0).size(), 10u);
    EXPECT_EQ(queue->stats().depth, 0u);
}

TEST_F(QueueConsumerTest, PastItsBoundTheLoopGetsNothingMoreUntilItHasRoomThenTheOutboxInIdOrderThenDirectAgain) {
    std::mutex mutex;
    std::vector<std::pair<OutboxEntry, bool>> to_loop;  // entry, came back from the outbox
    std::size_t finished = 0;                          // of those handed to the loop, as it would say
    QueueConsumer consumer(
        *queue, *h.store, log,
        [&](std::vector<OutboxEntry> entries) {
            std::lock_guard lock(mutex);
            for (auto& e : entries) to_loop.emplace_back(std::move(e), false);
        },
        {}, std::chrono::milliseconds(1));
    consumer.bound_loop(
        8,
        [&] {
            std::lock_guard lock(mutex);
            return to_loop.size() - finished;
        },
        [&](std::vector<OutboxEntry> entries) {
            std::lock_guard lock(mutex);
            for (auto& e : entries) to_loop.emplace_back(std::move(e), true);
        });
    auto handed_count = [&] {
        std::lock_guard lock(mutex);
        return to_loop.size();
    };
    auto finish = [&](std::size_t n) {
        std::lock_guard lock(mutex);
        finished = n;
    };
    consumer.start();
    for (int i = 0; i < 20; ++i) ASSERT_EQ(queue->enqueue(Notify{"g", "T" + std::to_string(i), "", 1}), EnqueueResult::accepted);
    // Every entry read is stored and committed in the queue; only the bound's 8 reached the loop.
    ASSERT_TRUE(wait_until([&] { return queue->stats().depth == 0 && h.store->outbox_load(0).size() == 20; }));
    EXPECT_EQ(handed_count(), 8u);
    EXPECT_EQ(consumer.waiting_in_outbox(), 12u);
    finish(1);  // 7 in the loop, above 3/4 of the bound: still nothing
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(handed_count(), 8u);
    finish(4);  // room for 4: they come back from the outbox, the oldest first
    ASSERT_TRUE(wait_until([&] { return handed_count() == 12; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(handed_count(), 12u);  // full again
    finish(12);
    ASSERT_TRUE(wait_until([&] { return handed_count() == 20 && consumer.waiting_in_outbox() == 0; }));
    // Once none waits, notifies go to the loop directly again.
    finish(20);
    ASSERT_EQ(queue->enqueue(Notify{"g", "T20", "", 1}), EnqueueResult::accepted);
    ASSERT_TRUE(wait_until([&] { return handed_count() == 21; }));
    consumer.stop();
    std::lock_guard lock(mutex);
    for (std::size_t i = 0; i < to_loop.size(); ++i) {
        EXPECT_EQ(to_loop[i].first.tail, "T" + std::to_string(i)) << i;  // queue order, always
        EXPECT_EQ(to_loop[i].second, i >= 8 && i < 20) << i;
        if (i > 0) {
            EXPECT_LT(to_loop[i - 1].first.id, to_loop[i].first.id);
        }
    }
}

TEST_F(QueueConsumerTest, AStartUpThatTookPartOfTheOutboxGetsTheRestBackBeforeAnythingNew) {
    std::vector<OutboxEntry> old;
    for (std::uint64_t id = 1; id <= 6; ++id) old.push_back(OutboxEntry{id, "g", "O" + std::to_string(id), "", 1});
    h.store->outbox_put(old);
    QueueConsumer consumer(*queue, *h.store, log, handed.sink(), {}, std::chrono::milliseconds(1));
    consumer.bound_loop(100, [] { return std::size_t{0}; }, handed.sink(), 4);  // the start-up took ids 1-3
    consumer.start();
    ASSERT_EQ(queue->enqueue(Notify{"g", "N", "", 1}), EnqueueResult::accepted);
    ASSERT_TRUE(wait_until([&] { return handed.entries().size() == 4; }));
    consumer.stop();
    std::vector<std::string> tails;
    for (const auto& entry : handed.entries()) tails.push_back(entry.tail);
    EXPECT_EQ(tails, (std::vector<std::string>{"O4", "O5", "O6", "N"}));
}

TEST_F(QueueConsumerTest, EntriesFinishedBeforeTheirStoreDelayNeverEnterTheOutbox) {
    // A delay far longer than the test takes to answer, so the forgetting always comes first.
    QueueConsumer consumer(*queue, *h.store, log, handed.sink(), record_stored(), std::chrono::seconds(2));
    consumer.start();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(queue->enqueue(Notify{"g", "T" + std::to_string(i), "", 1}), EnqueueResult::accepted);
    ASSERT_TRUE(wait_until([&] { return handed.ids().size() == 3; }));
    const std::vector<std::uint64_t> ids = handed.ids();
    // The first and the last finished; the middle one is still in flight.
    EXPECT_EQ(consumer.forget_unwritten({ids[0], ids[2]}), (std::vector<std::uint64_t>{ids[0], ids[2]}));
    EXPECT_EQ(stored_below.load(), 0u);  // the one in flight waits for its store delay
    EXPECT_EQ(queue->stats().committed_position, ids[0]);
    EXPECT_EQ(consumer.forget_unwritten({ids[1]}), std::vector<std::uint64_t>{ids[1]});
    // Nothing left to store: the queue is committed past all three at once, the outbox untouched.
    ASSERT_TRUE(wait_until([&] { return stored_below.load() == ids[2] + 1; }));
    EXPECT_EQ(queue->stats().committed_position, ids[2] + 1);
    EXPECT_TRUE(h.store->outbox_load(0).empty());
    // A later entry that does not finish is still stored after its delay.
    ASSERT_EQ(queue->enqueue(Notify{"g", "T3", "", 1}), EnqueueResult::accepted);
    ASSERT_TRUE(wait_until([&] { return stored_below.load() == ids[2] + 2; }, std::chrono::seconds(30)));
    ASSERT_EQ(h.store->outbox_load(0).size(), 1u);
    EXPECT_EQ(h.store->outbox_load(0).front().tail, "T3");
    EXPECT_TRUE(consumer.forget_unwritten({ids[2] + 1}).empty());  // too late: it must leave the outbox instead
    consumer.stop();
}

// A child process holding the store's LMDB writer lock (an open write transaction) until released:
// to the sender, a disk whose fsync takes as long as the test likes.
class StoreWriterLockHolder {
public:
    explicit StoreWriterLockHolder(const std::string& store_path) {
        int ready[2], release[2];
        if (::pipe(ready) != 0 || ::pipe(release) != 0) throw std::runtime_error("pipe");
        pid_ = ::fork();
        if (pid_ == 0) {
            MDB_env* env = nullptr;
            MDB_txn* txn = nullptr;
            char byte = 0;
            if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 16) != 0 ||
                mdb_env_open(env, store_path.c_str(), 0, 0664) != 0 || mdb_txn_begin(env, nullptr, 0, &txn) != 0)
                ::_exit(1);
            if (::write(ready[1], "r", 1) != 1 || ::read(release[0], &byte, 1) < 0) ::_exit(1);
            mdb_txn_abort(txn);
            ::_exit(0);
        }
        ::close(ready[1]);
        ::close(release[0]);
        release_fd_ = release[1];
        char byte = 0;
        held_ = ::read(ready[0], &byte, 1) == 1;
        ::close(ready[0]);
    }
    ~StoreWriterLockHolder() { release(); }
    bool held() const noexcept { return held_; }
    void release() {
        if (release_fd_ < 0) return;
        if (::write(release_fd_, "x", 1) != 1) {
        }
        ::close(release_fd_);
        release_fd_ = -1;
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }

private:
    pid_t pid_ = -1;
    int release_fd_ = -1;
    bool held_ = false;
};

TEST_F(QueueConsumerTest, ASlowOutboxWriteHoldsUpNeitherTheHandoffNorTheReadingOfLaterNotifies) {
    // No store delay: each write starts at once and gets stuck behind the held lock.
    QueueConsumer consumer(*queue, *h.store, log, handed.sink(), record_stored(), std::chrono::milliseconds(0));
    const auto start = queue->committed_position();
    consumer.start();
    ASSERT_EQ(queue->enqueue(Notify{"g", "T0", "", 1}), EnqueueResult::accepted);
    ASSERT_TRUE(wait_until([&] { return stored_below.load() == start + 1; }));
    StoreWriterLockHolder slow_disk(h.config.store.path);
    ASSERT_TRUE(slow_disk.held());
    for (int i = 1; i <= 3; ++i) {
        ASSERT_EQ(queue->enqueue(Notify{"g", "T" + std::to_string(i), "", 1}), EnqueueResult::accepted);
        // Each is handed on while the write of the first of them is stuck.
        ASSERT_TRUE(wait_until([&] { return handed.ids().size() == static_cast<std::size_t>(i) + 1; }));
    }
    EXPECT_EQ(queue->stats().committed_position, start + 1);  // nothing committed that is not stored
    EXPECT_EQ(stored_below.load(), start + 1);
    slow_disk.release();
    ASSERT_TRUE(wait_until([&] { return stored_below.load() == start + 4; }));
    EXPECT_EQ(queue->stats().committed_position, start + 4);
    EXPECT_EQ(h.store->outbox_load(0).size(), 4u);
    consumer.stop();
}

struct QuickPipelineTest : PipelineTest {
    QuickPipelineTest() : PipelineTest("  coalesce_ms: 0\n") {}
};

TEST_F(QuickPipelineTest, AFinishedNotifyIsOfferedForForgettingOnlyOnceTheWriterHasItsDeliveredTails) {
    h.add(test::token_a, "g");
    StoreWriter writer(*h.store, log);
    std::vector<std::uint64_t> offered;
    pipeline = std::make_unique<Pipeline>(
        h.config, Pipeline::Deps{*h.store, timers, random, log, {}, transports.factory(), &writer, nullptr,
                                 [&](std::vector<std::uint64_t> ids) {
                                     offered.insert(offered.end(), ids.begin(), ids.end());
                                     return ids;
                                 }});
    StoreWriterLockHolder slow_disk(h.config.store.path);
    ASSERT_TRUE(slow_disk.held());
    pipeline->accept({{1, "g", "T1", "", 0}}, false);  // handed over, not stored
    ASSERT_EQ(prod().waiting.size(), 1u);
    prod().answer(200);
    for (int turn = 0; turn < 5; ++turn) pipeline->flush();  // finished, but its tail not written
    EXPECT_TRUE(offered.empty()) << "offered before the delivered tail was in the store";
    slow_disk.release();
    ASSERT_TRUE(wait_until([&] {
        pipeline->flush();
        return !offered.empty();
    }));
    EXPECT_EQ(offered, std::vector<std::uint64_t>{1});
    EXPECT_EQ(h.store->last_sent_tail(test::token_a), "T1");
    EXPECT_TRUE(h.store->outbox_load(0).empty());
    EXPECT_EQ(pipeline->ledger().live_entries(), 0u);
    pipeline.reset();
}

// The per-device push budget: a burst that makes many devices wait holds their store writes in
// memory only up to a bound while the writer cannot keep up; the fan-out waits for the writer.
struct HoldsPipelineTest : PipelineTest {
    HoldsPipelineTest() : PipelineTest("  coalesce_ms: 0\n  device_min_interval_s: 3600\n") {}
};

TEST_F(HoldsPipelineTest, WritesWaitingForAStalledWriterStayBoundedAndEveryPushWaitsOnceItIsBack) {
    constexpr std::uint64_t groups = 2000, per_group = 10, devices = groups * per_group;
    std::vector<Registration> registrations;
    std::vector<BudgetWrite> pushed;  // every device pushed just now: any push due to it waits
    std::vector<OutboxEntry> entries;
    for (std::uint64_t n = 0; n < devices; ++n) {
        char token[65];
        std::snprintf(token, sizeof token, "%064llx", static_cast<unsigned long long>(n + 1));
        registrations.push_back(Registration{token, "g" + std::to_string(n / per_group), "com.example.app",
                                             Environment::production, ""});
        BudgetWrite write;
        write.hold.token = token;
        write.device.last_push_ms = clock.unix_ms();
        pushed.push_back(std::move(write));
    }
    for (std::uint64_t g = 0; g < groups; ++g) entries.push_back(OutboxEntry{g + 1, "g" + std::to_string(g), "T1", "", 1});
    h.store->register_devices(registrations, clock.unix_ms());
    h.store->budget_write(pushed);
    put(entries, false);

    StoreWriter writer(*h.store, log);
    pipeline = std::make_unique<Pipeline>(
        h.config, Pipeline::Deps{*h.store, timers, random, log, {}, transports.factory(), &writer});
    StoreWriterLockHolder slow_disk(h.config.store.path);
    ASSERT_TRUE(slow_disk.held());
    pipeline->accept(entries);
    for (int turn = 0; turn < 20; ++turn) {  // loop iterations while the writer is stuck
        pipeline->flush();
        advance(5);
    }
    EXPECT_LE(pipeline->holds().unwritten(), Holds::max_unwritten + 2 * Pipeline::fanout_page);
    EXPECT_GT(pipeline->expanding() + pipeline->waiting_rounds(), 0u) << "the fan-out did not wait for the writer";
    EXPECT_LT(pipeline->holds().waiting(), devices);

    slow_disk.release();
    ASSERT_TRUE(wait_until([&] {
        pipeline->flush();
        advance(5);
        return pipeline->expanding() + pipeline->waiting_rounds() == 0 && pipeline->holds().unwritten() == 0;
    }, std::chrono::seconds(60)));
    EXPECT_EQ(pipeline->holds().waiting(), devices);
    EXPECT_EQ(h.store->held_count(), devices);
    EXPECT_EQ(pipeline->holds().stats().held, devices);
    for (const auto* transport : transports.all) EXPECT_EQ(transport->sent, 0);
    pipeline.reset();
    writer.stop();
}

// A transport answering 200 to everything at once, from the loop (as the real client does).
class EchoTransport final : public PushTransport {
public:
    EchoTransport(Callback callback, std::atomic<int>& sent) : callback_(std::move(callback)), sent_(sent) {}
    void send(PushRequest request) override {
        ++sent_;
        pending_.push_back(request.tag);
        if (pending_.size() == 1) flush_soon();
    }
    std::size_t in_flight() const noexcept override { return pending_.size(); }
    void shutdown(std::uint32_t) override {}
    bool credentials_rejected() const noexcept override { return false; }

private:
    void flush_soon() {
        // Answer outside send(): the Dispatcher must not see re-entrant answers from send().
        auto tags = std::move(pending_);
        pending_.clear();
        for (auto tag : tags) {
            PushResponse response;
            response.tag = tag;
            response.status = 200;
            callback_(response);
        }
    }
    Callback callback_;
    std::atomic<int>& sent_;
    std::vector<std::uint64_t> pending_;
};

TEST(Daemon, DeliversQueuedNotifiesKeepsAHeartbeatAndStopsCleanly) {
    test::Harness h("  coalesce_ms: 0\n");
    h.add(test::token_a, "g");
    h.add(test::token_b, "g");
    h.store.reset();  // the daemon opens its own
    std::atomic<int> sent{0};
    Logger log{LogLevel::error};
    auto daemon = std::make_unique<Daemon>(h.config, log, [&](struct ev_loop*) -> TransportFactory {
        return [&](const ConnectionConfig&, PushTransport::Callback callback) -> std::unique_ptr<PushTransport> {
            return std::make_unique<EchoTransport>(std::move(callback), sent);
        };
    });
    std::thread loop([&] { EXPECT_EQ(daemon->run(), 0); });
    auto queue = Queue::open(h.config.queue.path, h.config.queue.capacity);
    ASSERT_EQ(queue->enqueue(Notify{"g", "T1", test::token_a, 1}), EnqueueResult::accepted);
    EXPECT_TRUE(wait_until([&] { return queue->stats().counters[static_cast<unsigned>(Counter::pushes_sent)] == 1; }));
    EXPECT_TRUE(wait_until([&] { return queue->stats().consumer_heartbeat_ms > 0; }));
    daemon->request_stop();
    loop.join();
    daemon.reset();  // its store writer finishes; one Store per process
    EXPECT_EQ(sent.load(), 1);
    Store store(StoreOptions::from(h.config.store));
    EXPECT_TRUE(store.outbox_load(0).empty());
    EXPECT_EQ(store.last_sent_tail(test::token_b), "T1");
}

}  // namespace
}  // namespace pushsync::sender
