// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What the sender's benchmarks share: a pushsync.yaml in a temp dir pointing at an apns-sim (and,
// with add_fcm(), at an fcm-sim for an Android app of the same bundle_id),
// devices registered straight into the store, the real pushsync-sender started on it, notifies
// put in its queue, and the kernel's figures of a process. Whatever fails here throws
// bench::Failure (bench/fail_loudly.hpp): the benchmark stops instead of measuring less.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/fail_loudly.hpp"
#include "shared/config/config.hpp"
#include "shared/device.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"
#include "tests/support/apns_sim_fixture.hpp"
#include "tests/support/fcm_sim_fixture.hpp"
#include "tests/support/process.hpp"

namespace pushsync::bench {

inline std::string token_of(std::uint64_t i) {
    char buf[65];
    std::snprintf(buf, sizeof buf, "%064llx", static_cast<unsigned long long>(i + 1));
    return buf;
}

// An FCM registration token of the usual length (about 160 characters) from a number.
inline std::string fcm_token_of(std::uint64_t i) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%012llx", static_cast<unsigned long long>(i + 1));
    return std::string("fB") + buf + ":APA91b" + std::string(140, 'k');
}

struct Setup {
    test::ApnsSimFixture& sim;
    test::TempDir dir;
    std::string config_path = (dir / "pushsync.yaml").string();
    std::uint32_t capacity = 65536;

    Setup(test::ApnsSimFixture& s, const std::string& delivery, const std::string& map_size,
          std::uint32_t timeout_ms = 10000, const std::string& sync = "always")
        : sim(s), map_size_(map_size), timeout_ms_(timeout_ms), sync_(sync) {
        write_config(delivery);
    }
    // pushsync.yaml again with another `delivery:` section (for the next sender started).
    // No cap on a group's devices: the benchmarks build groups of up to a million, and the
    // default cap (1000) would refuse all but the first thousand of each.
    void write_config(const std::string& delivery) const {
        std::string fcm_app, fcm_section;
        if (fcm_) {
            fcm_app = "  - bundle_id: com.example.app\n    platform: fcm\n    auth:\n      type: service_account\n"
                      "      file: " + fcm_->service_account().file.string() + "\n";
            fcm_section = "fcm:\n  endpoint: " + fcm_->url() + "\n  token_uri: " + fcm_->token_uri() +
                          "\n  ca_file: " + fcm_->ca_file().string() + "\n  request_timeout_ms: " +
                          std::to_string(timeout_ms_) + "\n";
        }
        test::write_file(config_path,
                         "store:\n  path: " + (dir / "store").string() + "\n  map_size: " + map_size_ +
                             "\n  sync: " + sync_ + "\n  max_devices_per_group: 0\nqueue:\n  path: " + (dir / "queue").string() +
                             "\n  capacity: 65536\ndelivery:\n" + delivery + "apns:\n  production: " + sim.url() +
                             "\n  sandbox: " + sim.url() + "\n  ca_file: " + sim.ca_file().string() +
                             "\n  request_timeout_ms: " + std::to_string(timeout_ms_) +
                             "\napps:\n  - bundle_id: com.example.app\n    auth:\n      type: token\n      team_id: " +
                             sim.team_id() + "\n      key_id: " + sim.key_id() + "\n      key_file: " +
                             sim.key_file().string() + "\n" + fcm_app + fcm_section + "sender:\n  log_level: warn\n");
    }
    // An Android app com.example.app on `fcm` beside the iOS one; writes the file again.
    void add_fcm(test::FcmSimFixture& fcm, const std::string& delivery) {
        fcm_ = &fcm;
        write_config(delivery);
    }
    // `count` fcm devices in group `name`, tokens fcm_token_of(0..count-1).
    void register_fcm_devices(std::uint64_t count, const std::string& name) {
        Store store(StoreOptions::from(config().store));
        std::vector<Registration> batch;
        for (std::uint64_t n = 0; n < count; ++n) {
            batch.push_back(Registration{fcm_token_of(n), name, "com.example.app", Environment::production, "",
                                         Platform::fcm});
            if (batch.size() == 20000 || n + 1 == count) {
                register_or_fail(store, batch, now_unix_ms());
                batch.clear();
            }
        }
    }
    Config config() const { return load_config(config_path); }
    std::string queue_path() const { return (dir / "queue").string(); }

    // groups × per_group devices, group names g<i> (or `name` for a single group); a refused
    // registration throws ("N registrations refused").
    void register_devices(std::uint64_t groups, std::uint64_t per_group, const std::string& name = "") {
        Store store(StoreOptions::from(config().store));
        std::vector<Registration> batch;
        std::uint64_t n = 0;
        for (std::uint64_t g = 0; g < groups; ++g) {
            for (std::uint64_t d = 0; d < per_group; ++d) {
                batch.push_back(Registration{token_of(n++), name.empty() ? "g" + std::to_string(g) : name,
                                             "com.example.app", Environment::production, ""});
                if (batch.size() == 20000) {
                    register_or_fail(store, batch, now_unix_ms());
                    batch.clear();
                }
            }
        }
        if (!batch.empty()) register_or_fail(store, batch, now_unix_ms());
    }

    test::Process start_sender() {
        test::Process p = test::Process::spawn(
            {(test::binary_dir() / "sender" / "pushsync-sender").string(), "--config", config_path},
            dir / "sender.log");
        auto queue = open_queue();
        if (!test::wait_until([&] { return queue->stats().consumer_heartbeat_ms > 0; },
                              std::chrono::milliseconds(10000))) {
            throw Failure("timed out: the sender did not start in 10 s:\n" + test::read_file(dir / "sender.log"));
        }
        return p;
    }
    std::unique_ptr<Queue> open_queue() const { return Queue::open(queue_path(), capacity); }

private:
    test::FcmSimFixture* fcm_ = nullptr;
    std::string map_size_;
    std::uint32_t timeout_ms_;
    std::string sync_;
};

// Every one of `devices` devices (tokens token(0..devices-1)) has `tail` as its newest pushed tail
// in the store, within 30 s (the sender's StoreWriter commits them behind the pushes); else Failure.
inline void expect_newest_tail(const Setup& setup, std::uint64_t devices, const std::string& tail,
                               std::string (*token)(std::uint64_t)) {
    StoreOptions read_only = StoreOptions::from(setup.config().store);
    read_only.read_only = true;
    const Store store(read_only);
    std::vector<std::string> tokens;
    for (std::uint64_t n = 0; n < devices; ++n) tokens.push_back(token(n));
    const auto with_tail = [&] {
        std::vector<std::pair<std::string_view, std::string_view>> pairs;
        for (const auto& t : tokens) pairs.emplace_back(t, tail);
        const std::vector<bool> sent = store.were_sent(pairs);
        return static_cast<std::uint64_t>(std::count(sent.begin(), sent.end(), true));
    };
    wait_for_count(with_tail, devices, "devices with the newest tail " + tail, "the delivered tails in the store",
                   std::chrono::milliseconds(30000), std::chrono::milliseconds(20));
}

// Puts one notify in the queue, waiting out full and passed_over (they pass with time); any other
// answer (invalid) never will, so the benchmark stops loudly instead of measuring nothing; nor
// does a queue full for a minute (the sender stopped reading).
inline void enqueue_or_fail(Queue& q, const Notify& n) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    for (;;) {
        const auto result = q.enqueue(n);
        if (result == EnqueueResult::accepted) return;
        if (result != EnqueueResult::full && result != EnqueueResult::passed_over) {
            throw Failure("enqueue of group=" + std::string(n.group) + " tail=" + std::string(n.tail) +
                          " refused (invalid)");
        }
        if (std::chrono::steady_clock::now() > give_up) {
            throw Failure("timed out: the queue stayed full for a minute (group=" + std::string(n.group) + ")");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

// A "Name:   123 kB" line of /proc/PID/status (VmRSS, VmHWM, ...) in KiB, or -1.
inline long proc_status_kib(pid_t pid, std::string_view field) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 && line[field.size()] == ':') {
            return std::stol(line.substr(field.size() + 1));
        }
    }
    return -1;
}

}  // namespace pushsync::bench
