// SPDX-License-Identifier: BSD-2-Clause
// pushsyncctl queue, queue peek and queue reset, run as the built binary against a queue file the
// test made with Queue.
#include <nlohmann/json.hpp>

#include "shared/queue/queue.hpp"
#include "tests/cli/cli_fixture.hpp"
#include "tests/shared/queue/queue_forger.hpp"

namespace pushsync::test {
namespace {

using nlohmann::json;

class CliQueue : public CliTest {
protected:
    void SetUp() override {
        queue_ = Queue::open(queue_path(), 8);
        const std::int64_t now = now_unix_ms();
        origin_ = token_of(1);
        ASSERT_EQ(queue_->enqueue({"g-one", "T-1", origin_, now - 2000}), EnqueueResult::accepted);
        ASSERT_EQ(queue_->enqueue({"g-two", "T-2", "", now - 1000}), EnqueueResult::accepted);
        ASSERT_EQ(queue_->enqueue({"g-one", "T-3", "", now}), EnqueueResult::accepted);
        queue_->add(Counter::registrations, 5);
        queue_->add(Counter::pushes_sent, 2);
    }

    json status() const {
        const auto r = ctl({"queue", "--json"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return json::parse(r.out);
    }

    std::unique_ptr<Queue> queue_;
    std::string origin_;
};

TEST_F(CliQueue, StatusJson) {
    const QueueStats stats = queue_->stats();
    const json j = status();
    EXPECT_EQ(j["queue"]["path"], queue_path());
    EXPECT_EQ(j["queue"]["capacity"], 8);
    EXPECT_EQ(j["queue"]["depth"], 3);
    ASSERT_TRUE(j["queue"]["oldest_age_ms"].is_number()) << j.dump();
    EXPECT_GE(j["queue"]["oldest_age_ms"].get<std::int64_t>(), 2000);
    EXPECT_EQ(j["sender"]["alive"], false);
    EXPECT_TRUE(j["sender"]["heartbeat_age_ms"].is_null());
    EXPECT_EQ(j["counters"]["registrations"], 5);
    EXPECT_EQ(j["counters"]["pushes_sent"], 2);
    const char* names[] = {"registrations", "unregistrations", "notifies_accepted", "notifies_rejected",
                           "pushes_sent",   "pushes_failed",   "tokens_pruned"};
    for (unsigned i = 0; i < static_cast<unsigned>(Counter::count_); ++i) {
        EXPECT_EQ(j["counters"][names[i]], stats.counters[i]) << names[i];
    }
}

TEST_F(CliQueue, StatusTable) {
    queue_->heartbeat(now_unix_ms());
    const auto r = ctl({"queue"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 14u) << r.out;
    EXPECT_EQ(lines[0], "path               " + queue_path());
    EXPECT_EQ(lines[1], "capacity           8");
    EXPECT_EQ(lines[2], "depth              3");
    EXPECT_EQ(lines[3].rfind("oldest             ", 0), 0u) << lines[3];
    EXPECT_NE(lines[3].find(" ago ("), std::string::npos) << lines[3];
    EXPECT_EQ(lines[4].rfind("heartbeat          ", 0), 0u) << lines[4];
    EXPECT_NE(lines[4].find(" ago ("), std::string::npos) << lines[4];
    EXPECT_EQ(lines[5], "sender_alive       yes");
    EXPECT_EQ(lines[6], "registrations      5");
    EXPECT_EQ(lines[10], "pushes_sent        2");
    EXPECT_EQ(lines[13], "rejected_slots     0");
}

TEST_F(CliQueue, HeartbeatMakesTheSenderAlive) {
    queue_->heartbeat(now_unix_ms());
    json j = status();
    EXPECT_EQ(j["sender"]["alive"], true);
    EXPECT_GE(j["sender"]["heartbeat_age_ms"].get<std::int64_t>(), 0);
    queue_->heartbeat(now_unix_ms() - 60'000);
    j = status();
    EXPECT_EQ(j["sender"]["alive"], false);
    EXPECT_GE(j["sender"]["heartbeat_age_ms"].get<std::int64_t>(), 60'000);
}

TEST_F(CliQueue, PeekTableAndJsonMoveNothing) {
    auto r = ctl({"queue", "peek"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 4u) << r.out;
    // The first column, right-aligned over positions of 16 digits (a file starts at the clock in µs).
    EXPECT_EQ(lines[0].find("POSITION"), lines[0].find_first_not_of(' ')) << r.out;
    EXPECT_EQ(lines[0].find("POSITION") + 8, lines[1].find(' ')) << r.out;
    EXPECT_NE(lines[0].find("GROUP"), std::string::npos);
    EXPECT_NE(lines[1].find("g-one  T-1   " + origin_), std::string::npos) << lines[1];
    EXPECT_NE(lines[2].find("g-two  T-2   -"), std::string::npos) << lines[2];
    EXPECT_NE(lines[3].find("g-one  T-3   -"), std::string::npos) << lines[3];

    r = ctl({"queue", "peek", "2", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    ASSERT_EQ(j["entries"].size(), 2u) << r.out;
    EXPECT_EQ(j["entries"][0]["group"], "g-one");
    EXPECT_EQ(j["entries"][0]["tail"], "T-1");
    EXPECT_EQ(j["entries"][0]["origin"], origin_);
    EXPECT_GE(j["entries"][0]["age_ms"].get<std::int64_t>(), 2000);
    EXPECT_EQ(j["entries"][1]["tail"], "T-2");
    EXPECT_TRUE(j["entries"][1]["origin"].is_null());
    EXPECT_LT(j["entries"][0]["position"].get<std::uint64_t>(), j["entries"][1]["position"].get<std::uint64_t>());

    EXPECT_EQ(status()["queue"]["depth"], 3);
    EXPECT_EQ(queue_->stats().depth, 3u);
    EXPECT_EQ(ctl({"queue", "peek", "x"}).exit_code, 2);
    EXPECT_EQ(ctl({"queue", "peek", "1", "2"}).exit_code, 2);
}

TEST_F(CliQueue, PeekPrintsWhatAForgedSlotHoldsEscaped) {
    QueueForger forger(queue_path());
    forger.publish({.group = "g\n2026-11-30 forged\x1b[2J", .tail = "T \"x\"\xff"});
    auto r = ctl({"queue", "peek"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 5u) << r.out;
    EXPECT_NE(lines[4].find(R"("g\x0a2026-11-30 forged\x1b[2J"  "T \x22x\x22\xff")"), std::string::npos) << lines[4];
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos);

    r = ctl({"queue", "peek", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);  // valid JSON whatever the bytes
    ASSERT_EQ(j["entries"].size(), 4u) << r.out;
    EXPECT_EQ(j["entries"][3]["group"], "g\n2026-11-30 forged\x1b[2J");
}

TEST_F(CliQueue, ResetRefusedWhileTheConsumerIsFresh) {
    queue_->heartbeat(now_unix_ms());
    auto r = ctl({"queue", "reset"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
    EXPECT_EQ(status()["queue"]["depth"], 3);

    r = ctl({"queue", "reset", "--force"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "reset queue " + queue_path() + " (capacity 8, 3 entries dropped)\n");
    const json j = status();
    EXPECT_EQ(j["queue"]["depth"], 0);
    EXPECT_EQ(j["queue"]["capacity"], 8);
    EXPECT_TRUE(j["queue"]["oldest_age_ms"].is_null());
    EXPECT_EQ(j["counters"]["registrations"], 0);
}

TEST_F(CliQueue, ResetWithAStaleHeartbeatNeedsNoForce) {
    queue_->heartbeat(now_unix_ms() - 60'000);
    write_config("", 16);  // reset takes the configured capacity
    const auto r = ctl({"queue", "reset", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out), json::parse(R"({"path":")" + queue_path() + R"(","capacity":16,"dropped":3})"));
    EXPECT_EQ(status()["queue"]["capacity"], 16);
    EXPECT_EQ(Queue::open_existing(queue_path())->capacity(), 16u);
}

TEST_F(CliTest, QueueMissingFile) {
    auto r = ctl({"queue"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(queue_path()), std::string::npos) << r.err;
    EXPECT_EQ(ctl({"queue", "peek"}).exit_code, 1);
    EXPECT_EQ(ctl({"queue", "--json"}).exit_code, 1);
    // reset creates it
    r = ctl({"queue", "reset"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ctl({"queue"}).exit_code, 0);
}

TEST_F(CliTest, QueueCorruptFileIsAnErrorThatResetRepairs) {
    write_file(queue_path(), std::string(4096, 'x'));
    auto r = ctl({"queue"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find(queue_path()), std::string::npos) << r.err;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
    r = ctl({"queue", "reset"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = ctl({"queue", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["queue"]["capacity"], 8);
}

}  // namespace
}  // namespace pushsync::test
