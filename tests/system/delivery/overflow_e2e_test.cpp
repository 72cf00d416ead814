// SPDX-License-Identifier: BSD-2-Clause
// The sender's loop holds a bounded number of outbox entries (QueueConsumer::kLoopEntries) and
// pushes (Pipeline::max_backlog):
// real nginx + module, the real pushsync-sender binary, apns-sim stalled (every answer delayed)
// while more notifies arrive than the bound. The queue keeps being read into the outbox on disk,
// the loop never holds more than the bound (the sender's own figures in its sender.stats line),
// and after the stall every device gets its group's newest tail, also across a SIGKILL.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <optional>
#include <regex>

#include "sender/intake/consumer.hpp"
#include "sender/pipeline.hpp"
#include "tests/system/delivery/e2e.hpp"

namespace pushsync::sender::e2e {
namespace {

constexpr int kGroups = 1000;
constexpr int kDevices = 5;         // per group: the bound's rounds would put 81,920 pushes in the backlog
constexpr int kRounds = 25;         // notifies per group: 25,000 in all, over the bound of 16,384
constexpr std::size_t kBound = QueueConsumer::kLoopEntries;
constexpr std::size_t kBacklog = Pipeline::max_backlog + Pipeline::fanout_page;  // a page may start below it
static_assert(kGroups * kRounds > static_cast<int>(kBound) + 4096, "the burst must overflow the loop");

Stack::Options stalled_options() {
    Stack::Options o;
    // Answers delayed by seconds must not time out and be retried: the stall is the simulator's.
    o.request_timeout_ms = 30000;
    o.queue_capacity = 4096;  // far smaller than the burst: the ring must keep draining
    return o;
}

std::string group(int g) { return "g" + std::to_string(g); }
std::string tail(int g, int r) { return "g" + std::to_string(g) + "-t" + std::to_string(r); }

void register_devices(Stack& s) {
    std::vector<std::pair<std::string, std::string>> devices;
    for (int g = 0; g < kGroups; ++g) {
        for (int d = 0; d < kDevices; ++d) devices.emplace_back(token(kDevices * g + d), group(g));
    }
    ASSERT_EQ(s.import_devices(devices), 0);
}

// Every round of notifies straight into the queue (nginx's part is not what is tested), waiting
// whenever the ring is full as a worker's client would retry a 503.
void notify_all(Stack& s) {
    auto queue = Queue::open_existing(s.nginx.queue_path().string());
    for (int r = 0; r < kRounds; ++r) {
        for (int g = 0; g < kGroups; ++g) {
            const Notify n{group(g), tail(g, r), "", now_unix_ms()};
            while (queue->enqueue(n) != EnqueueResult::accepted) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
}

std::optional<std::uint64_t> outbox_size(const Stack& s) {
    const auto r = run({(binary_dir() / "cli" / "pushsyncctl").string(), "--config", s.nginx.config_path().string(),
                        "stats", "--json"});
    if (r.exit_code != 0) return std::nullopt;
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (!j.is_object() || !j.contains("outbox")) return std::nullopt;
    return j["outbox"].get<std::uint64_t>();
}

// A figure of the sender's newest sender.stats line (its heartbeat, every second at debug).
std::optional<std::uint64_t> stat(const Stack& s, const std::string& name) {
    const std::string log = read_file(s.sender_log());
    const auto line = log.rfind("sender.stats ");
    if (line == std::string::npos) return std::nullopt;
    const std::string rest = log.substr(line, log.find('\n', line) - line);
    std::smatch m;
    if (!std::regex_search(rest, m, std::regex(" " + name + "=([0-9]+)"))) return std::nullopt;
    return std::stoull(m[1]);
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// The simulator stalls: every answer takes seconds (the sender's streams fill and stay full).
void stall(Stack& s) { s.sim.add_fault({{"kind", "delay"}, {"delay_ms", 3000}, {"count", -1}}); }

// While stalled: the queue is read empty, the outbox holds at least what the loop may not, and
// the loop's bound is reached and held.
void expect_overflow_in_the_outbox(Stack& s) {
    ASSERT_TRUE(wait_until([&] { return Queue::open_existing(s.nginx.queue_path().string())->stats().depth == 0; },
                           std::chrono::seconds(60)))
        << "the ring did not drain while APNs stalled\n" << read_file(s.sender_log());
    ASSERT_TRUE(wait_until([&] { return outbox_size(s).value_or(0) >= kGroups * kRounds - kBound; },
                           std::chrono::seconds(60)))
        << "outbox=" << outbox_size(s).value_or(0) << "\n" << read_file(s.sender_log());
    ASSERT_TRUE(wait_until([&] { return stat(s, "outbox_waiting").value_or(0) > 0; }, std::chrono::seconds(30)))
        << read_file(s.sender_log());
    EXPECT_NE(read_file(s.sender_log()).find("loop.overflow first="), std::string::npos);
    // The bound is reached (the few entries finished meanwhile are replaced from the outbox at
    // 3/4 of it) and never passed.
    EXPECT_GE(stat(s, "outbox_live_peak").value_or(0), kBound - kBound / 4);
    EXPECT_LE(stat(s, "outbox_live_peak").value_or(kBound + 1), kBound);
    EXPECT_LE(stat(s, "outbox_live").value_or(kBound + 1), kBound);
    // The rounds' first pages stop at the Dispatcher's bound: the other rounds wait without pushes.
    EXPECT_LE(stat(s, "backlog").value_or(kBacklog + 1), kBacklog) << read_file(s.sender_log());
    EXPECT_GT(stat(s, "rounds_waiting").value_or(0), 0u);
}

// After the stall: every device's last push carries its group's newest tail, the outbox empties,
// and the loop never held more than its bound.
void expect_every_device_gets_the_newest_tail(Stack& s) {
    ASSERT_TRUE(s.wait_outbox_empty(std::chrono::seconds(150))) << "outbox=" << outbox_size(s).value_or(0);
    std::map<std::string, std::string> last_tail;  // token -> the payload of its last 200
    for (const auto& e : s.requests()) {
        if (e.value("status", 0) == 200) last_tail[e.value("token", "")] = e.value("payload", "");
    }
    int wrong = 0;
    std::string first_wrong;
    for (int g = 0; g < kGroups; ++g) {
        const std::string want = R"({"aps":{"content-available":1},"tail":")" + tail(g, kRounds - 1) + "\"}";
        for (int d = 0; d < kDevices; ++d) {
            const std::string t = token(kDevices * g + d);
            if (last_tail[t] == want) continue;
            if (wrong++ == 0) first_wrong = t + " got " + last_tail[t] + ", want " + want;
        }
    }
    EXPECT_EQ(wrong, 0) << first_wrong;
    ASSERT_TRUE(wait_until([&] { return stat(s, "outbox_waiting") == 0u && stat(s, "outbox_live") == 0u; }))
        << read_file(s.sender_log());
    EXPECT_LE(stat(s, "outbox_live_peak").value_or(kBound + 1), kBound);
    EXPECT_NE(read_file(s.sender_log()).find("loop.overflow_over"), std::string::npos);
}

TEST(SenderOverflowE2E, AStalledApnsFillsTheOutboxNotTheLoopAndEveryDeviceGetsItsGroupsNewestTail) {
    Stack s(stalled_options());
    register_devices(s);
    stall(s);
    notify_all(s);
    expect_overflow_in_the_outbox(s);
    s.sim.clear_faults();
    expect_every_device_gets_the_newest_tail(s);
}

TEST(SenderOverflowE2E, ASenderKilledDuringTheOverflowLosesNothingAndRestartsWithinTheBound) {
    Stack s(stalled_options());
    register_devices(s);
    stall(s);
    notify_all(s);
    expect_overflow_in_the_outbox(s);
    s.sender.kill_and_wait(SIGKILL);
    s.sim.clear_faults();
    s.start_sender();
    // The restart takes the outbox back a bound at a time, not all of it.
    ASSERT_TRUE(wait_until([&] { return count(read_file(s.sender_log()), "loop.overflow first=") >= 2; }))
        << read_file(s.sender_log());
    expect_every_device_gets_the_newest_tail(s);
}

}  // namespace
}  // namespace pushsync::sender::e2e
