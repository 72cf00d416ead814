// SPDX-License-Identifier: BSD-2-Clause
// A local attacker writes garbage, truncates, and forges slots and
// positions in the queue file while nginx and the sender run. No process dies, no push carries
// anything but the contract's body, every forged or broken slot is counted and skipped, and
// notifies made afterwards are delivered (after `pushsyncctl queue reset` where the file itself
// was broken). Waits on conditions (the simulator's log, the queue's counters, the sender's log).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tests/shared/queue/queue_forger.hpp"
#include "tests/system/delivery/e2e.hpp"

namespace pushsync::sender::e2e {
namespace {

namespace fs = std::filesystem;

struct Attack : ::testing::Test {
    Stack s;
    std::string a = token(1), b = token(2);
    std::set<std::string> sent_tails;  // every tail a client notified with
    std::vector<pid_t> workers;

    void SetUp() override {
        s.register_device("fam", a);
        s.register_device("fam", b);
        workers = s.nginx.worker_pids();
    }

    std::string queue_path() const { return s.nginx.queue_path().string(); }
    QueueStats stats() const { return Queue::open_existing(queue_path())->stats(); }

    int notify_status(const std::string& tail) {
        const auto r = s.nginx.request("POST", "/v1/groups/fam/notify", R"({"tail":")" + tail + "\"}");
        if (r.status == 202) sent_tails.insert(tail);
        return r.status;
    }
    // A notify made now reaches both devices.
    void expect_delivered(const std::string& tail) {
        ASSERT_EQ(notify_status(tail), 202) << tail;
        const bool both = wait_until(
            [&] {
                std::size_t n = 0;
                for (const auto& e : s.requests())
                    n += e.value("status", 0) == 200 &&
                         e.value("payload", "") == R"({"aps":{"content-available":1},"tail":")" + tail + "\"}";
                return n >= 2;
            },
            std::chrono::seconds(30));
        ASSERT_TRUE(both) << tail << "\n" << read_file(s.sender_log());
    }
    int ctl(const std::vector<std::string>& args) {
        std::vector<std::string> argv{(binary_dir() / "cli" / "pushsyncctl").string(), "--config",
                                      s.nginx.config_path().string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv).exit_code;
    }
    void reset_queue() { ASSERT_EQ(ctl({"queue", "reset", "--force"}), 0); }
    // Notifies answer 503 now (the file is broken): the workers answer, and log why.
    void expect_refused() {
        EXPECT_TRUE(wait_until([&] { return notify_status("refused") == 503; }, std::chrono::seconds(10)));
    }
    bool sender_logged(const std::string& event) const {
        return read_file(s.sender_log()).find(event) != std::string::npos;
    }

    void TearDown() override {
        EXPECT_TRUE(s.sender.running()) << read_file(s.sender_log());
        EXPECT_TRUE(s.nginx.running());
        EXPECT_EQ(s.nginx.worker_pids(), workers) << "a worker died";
        const std::string error_log = s.nginx.error_log();
        EXPECT_EQ(error_log.find("exited on signal"), std::string::npos) << error_log;
        // Every push APNs got is the contract's body for a tail a client sent.
        for (const auto& e : s.requests()) {
            const auto body = nlohmann::json::parse(e.value("payload", ""), nullptr, false);
            ASSERT_TRUE(body.is_object() && body.size() == 2) << e.dump();
            ASSERT_TRUE(body.contains("tail") && body["tail"].is_string()) << e.dump();
            const std::string tail = body["tail"];
            EXPECT_TRUE(sent_tails.count(tail)) << "a push nobody notified: " << e.dump();
            EXPECT_EQ(e.value("payload", ""), R"({"aps":{"content-available":1},"tail":")" + tail + "\"}");
        }
        // The sender's log has one line per event whatever the slots held.
        const std::string log = read_file(s.sender_log());
        EXPECT_EQ(log.find("\n2026-11-30T00:00:00.000Z error"), std::string::npos) << "a forged line reached the log";
        EXPECT_EQ(log.find("\x1b"), std::string::npos) << "a terminal escape reached the log";
    }
};

TEST_F(Attack, ForgedSlotsAreCountedSkippedAndNeverPushed) {
    expect_delivered("before");
    const auto rejected_before = stats().rejected_slots;
    {
        test::QueueForger forger(queue_path());
        forger.publish({.group = "fam", .tail = "x\",\"aps\":{\"alert\":\"pwned\"},\"y\":\""});
        forger.publish({.group = "fam\n2026-11-30T00:00:00.000Z error forged line", .tail = "T"});
        forger.publish({.group = "fam", .tail = "T\x1b[31m"});
        forger.publish({.group = "fam", .tail = "T", .tail_len = 250});
        forger.publish({.group = "fam", .tail = "T", .origin = "zz"});
        forger.publish({.group = "", .tail = ""});
    }
    expect_delivered("after-slots");  // also wakes the sender to read the forged ones first
    EXPECT_TRUE(wait_until([&] { return stats().rejected_slots == rejected_before + 6; })) << stats().rejected_slots;
    EXPECT_TRUE(sender_logged("queue.slot_rejected")) << read_file(s.sender_log());
    // The ring was committed past them: a full ring's worth of notifies still fits.
    ASSERT_TRUE(s.wait_outbox_empty());
    EXPECT_EQ(stats().depth, 0u);
}

TEST_F(Attack, ForgedPositionsBreakTheFileUntilAResetThenDeliveryGoesOn) {
    expect_delivered("before");
    for (int round = 0; round < 2; ++round) {
        {
            test::QueueForger forger(queue_path());
            if (round == 0)
                forger.header().committed_position.fetch_add(5);  // the stall of the review
            else
                forger.header().producer_position.store(std::uint64_t{1} << 61);
        }
        expect_refused();
        EXPECT_TRUE(wait_until([&] { return sender_logged("queue.broken"); }, std::chrono::seconds(15)))
            << read_file(s.sender_log());
        reset_queue();
        expect_delivered("after-positions-" + std::to_string(round));
    }
}

TEST_F(Attack, GarbageOverTheFileIsRefusedUntilAReset) {
    expect_delivered("before");
    {
        std::fstream f(queue_path(), std::ios::in | std::ios::out | std::ios::binary);
        std::string garbage(12288, '\0');
        for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 131 + 7);
        f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    expect_refused();
    EXPECT_TRUE(wait_until([&] { return sender_logged("queue.broken"); }, std::chrono::seconds(15)))
        << read_file(s.sender_log());
    reset_queue();
    expect_delivered("after-garbage");
}

TEST_F(Attack, ATruncatedFileKillsNoWorkerAndNoSender) {
    expect_delivered("before");
    for (std::uintmax_t size : {std::uintmax_t{0}, std::uintmax_t{4096 + 100}}) {
        fs::resize_file(queue_path(), size);
        expect_refused();
        EXPECT_TRUE(wait_until([&] { return sender_logged("queue.broken"); }, std::chrono::seconds(15)))
            << read_file(s.sender_log());
        // The next notify a worker takes reopens the path, which is refused naming the file.
        EXPECT_TRUE(wait_until([&] {
            notify_status("refused");
            return s.nginx.error_log().find("queue file " + queue_path() + ": size is") != std::string::npos;
        })) << s.nginx.error_log();
        reset_queue();
        expect_delivered("after-truncate-" + std::to_string(size));
    }
}

}  // namespace
}  // namespace pushsync::sender::e2e
