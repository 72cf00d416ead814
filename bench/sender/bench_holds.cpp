// SPDX-License-Identifier: BSD-2-Clause
// A million devices waiting for their push budget: the real
// pushsync-sender, driven through its queue, against apns-sim, N devices in groups of G.
//   1. Baseline: device_min_interval_s 0, one notify per group: N pushes go to apns-sim. The
//      sender's peak RSS (VmHWM), and its peak private memory (RssAnon, sampled every 10 ms).
//   2. Every device marked as pushed a moment ago (its budget in the store); a sender with
//      device_min_interval_s on, the same store, one notify per group again: N pushes wait (the
//      metrics file's gauge says N, the store holds N, the outbox is empty, APNs got nothing more).
//      The same figures.
//   3. That sender SIGKILLed and started again on the N waiting pushes: the same figures once it
//      has found them.
//   4. Every waiting push made due at once in the store, and a sender started on them: the same
//      figures once it has released and sent them all.
// RssFile (the store's pages mapped while every device is read) is part of VmHWM in 1 and 2 alike.
// Prints Markdown rows for BENCHMARKS.md. A phase that did not end as described (a registration
// refused, a wait timed out, more or fewer pushes than devices) ends it with one line and exit 1.
// ctest's bench_smoke runs it with `--devices 4000 --group-size 2000 --settle-ms 100`.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench/fail_loudly.hpp"
#include "bench/options.hpp"
#include "bench/sender/sender_setup.hpp"
#include "shared/metrics/file.hpp"

namespace {

using namespace pushsync;
using namespace pushsync::test;
using namespace pushsync::bench;
using Ms = std::chrono::milliseconds;

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }

// The waiting gauge the sender publishes (the figure /pushsync/metrics shows), or 0.
std::uint64_t waiting_gauge(const Setup& setup) {
    std::string error;
    const auto holds = metrics::read_hold_figures(metrics::path_beside_queue(setup.queue_path()), error);
    return holds ? holds->waiting : 0;
}

// Every device of the store pushed `at_ms`: a push due to any of them within the interval waits.
void mark_pushed(const Setup& setup, std::uint64_t devices, std::int64_t at_ms) {
    Store store(StoreOptions::from(setup.config().store));
    std::vector<BudgetWrite> batch;
    for (std::uint64_t n = 0; n < devices; ++n) {
        BudgetWrite write;
        write.kind = BudgetWrite::Kind::device;
        write.hold.token = token_of(n);
        write.device.last_push_ms = at_ms;
        batch.push_back(std::move(write));
        if (batch.size() == 20000 || n + 1 == devices) {
            store.budget_write(batch);
            batch.clear();
        }
    }
}

// Every waiting push in the store due at `due_ms` instead (as if the interval had passed).
void make_all_due(const Setup& setup, std::uint64_t devices, std::int64_t due_ms) {
    Store store(StoreOptions::from(setup.config().store));
    const std::vector<HeldPush> held = store.held_pushes(devices);
    std::vector<BudgetWrite> batch;
    for (std::size_t i = 0; i < held.size(); ++i) {
        BudgetWrite release;
        release.kind = BudgetWrite::Kind::release;
        release.hold = held[i];
        BudgetWrite hold;
        hold.kind = BudgetWrite::Kind::hold;
        hold.hold = held[i];
        hold.hold.due_ms = due_ms;
        BudgetWrite device;
        device.hold.token = held[i].token;
        device.device = store.device_budget(held[i].token).value_or(DeviceBudget{});
        device.device.held_until_ms = due_ms;
        batch.push_back(std::move(release));
        batch.push_back(std::move(hold));
        batch.push_back(std::move(device));
        if (batch.size() >= 30000 || i + 1 == held.size()) {
            store.budget_write(batch);
            batch.clear();
        }
    }
}

// Bytes the store's data file takes on disk (LMDB's file is sparse up to map_size).
double store_mib(const Setup& setup) {
    struct stat st {};
    if (::stat((setup.dir / "store" / "data.mdb").c_str(), &st) != 0) return -1;
    return static_cast<double>(st.st_blocks) * 512.0 / (1024.0 * 1024.0);
}

// A sender's figures over a phase: VmHWM at its end, the highest RssAnon sampled meanwhile.
class Watch {
public:
    explicit Watch(pid_t pid) : pid_(pid), thread_([this] {
        while (!stop_) {
            peak_anon_ = std::max(peak_anon_.load(), proc_status_kib(pid_, "RssAnon"));
            std::this_thread::sleep_for(Ms(10));
        }
    }) {}
    ~Watch() { end(); }
    struct Figures {
        long hwm = 0, rss = 0, anon = 0, peak_anon = 0, file = 0;
    };
    Figures end() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        const long anon = proc_status_kib(pid_, "RssAnon");
        return Figures{proc_status_kib(pid_, "VmHWM"), proc_status_kib(pid_, "VmRSS"), anon,
                       std::max(peak_anon_.load(), anon), proc_status_kib(pid_, "RssFile")};
    }

private:
    pid_t pid_;
    std::atomic<bool> stop_{false};
    std::atomic<long> peak_anon_{0};
    std::thread thread_;
};

// Ends the benchmark (bench::Failure) with what did not happen and the sender's log.
[[noreturn]] void fail(const Setup& setup, const std::string& what) {
    throw Failure(what + "\n" + read_file(setup.dir / "sender.log"));
}

void stop(const Setup& setup, Process& sender) {
    sender.signal(SIGTERM);
    if (sender.wait(Ms(30'000)) < 0) fail(setup, "timed out: the sender did not stop within 30 s of SIGTERM");
}

void row(const char* what, const Watch::Figures& f, double seconds) {
    std::printf("| %s (%.0f s; load %s) | **%.1f MiB** | %.1f MiB | %.1f MiB | %.1f MiB, %.1f MiB |\n", what, seconds,
                load_average().c_str(), mib(f.hwm),
                mib(f.peak_anon), mib(f.anon), mib(f.rss), mib(f.file));
    std::fflush(stdout);
}

void notify_every_group(Queue& queue, std::uint64_t groups, const std::string& tail) {
    for (std::uint64_t g = 0; g < groups; ++g) enqueue_or_fail(queue, Notify{"g" + std::to_string(g), tail, "", now_unix_ms()});
}

int run(std::uint64_t devices, std::uint64_t group_size, std::uint32_t interval_s, std::uint32_t settle_ms,
        const std::string& map_size) {
    ApnsSimOptions so;
    so.extra_args = {"--quiet", "--log-memory", "0"};
    ApnsSimFixture sim(so);
    Setup setup(sim, "  coalesce_ms: 0\n", map_size, 10000, "interval");
    const std::uint64_t groups = (devices + group_size - 1) / group_size;
    devices = groups * group_size;
    auto start = std::chrono::steady_clock::now();
    setup.register_devices(groups, group_size);
    std::printf("setup: %llu devices in %llu groups of %llu registered in %.0f s; store %.0f MiB\n",
                static_cast<unsigned long long>(devices), static_cast<unsigned long long>(groups),
                static_cast<unsigned long long>(group_size), seconds_since(start), store_mib(setup));
    std::printf("| sender, %llu devices in groups of %llu, one notify per group | peak RSS (VmHWM) | peak RssAnon "
                "(private) | RssAnon after | RSS, RssFile after |\n|---|---|---|---|---|\n",
                static_cast<unsigned long long>(devices), static_cast<unsigned long long>(group_size));
    std::fflush(stdout);
    StoreOptions read_only = StoreOptions::from(setup.config().store);
    read_only.read_only = true;
    const auto outbox_empty = [&] { return Store(read_only).stats().outbox == 0; };

    // 1. Baseline: the budget off, every push sent.
    Process sender = setup.start_sender();
    auto queue = setup.open_queue();
    const auto sent = [&] { return queue->stats().counters[static_cast<unsigned>(Counter::pushes_sent)]; };
    {
        Watch watch(sender.pid());
        start = std::chrono::steady_clock::now();
        notify_every_group(*queue, groups, "T1");
        if (!wait_until([&] { return sent() >= devices && outbox_empty(); }, Ms(900'000), Ms(200))) {
            fail(setup, "timed out: " + std::to_string(sent()) + " of " + std::to_string(devices) +
                            " sent in the baseline (15 minutes)");
        }
        if (sent() != devices) fail(setup, "sent " + std::to_string(sent()) + " pushes to " + std::to_string(devices) + " devices");
        const double seconds = seconds_since(start);
        std::this_thread::sleep_for(Ms(settle_ms));
        row("baseline: device_min_interval_s 0, every push sent to apns-sim", watch.end(), seconds);
    }
    stop(setup, sender);

    // 2. The budget on, every device pushed a moment ago: every push waits.
    mark_pushed(setup, devices, now_unix_ms());
    setup.write_config("  coalesce_ms: 0\n  device_min_interval_s: " + std::to_string(interval_s) + "\n");
    const std::uint64_t sent_before = sent();
    const std::uint64_t apns_before = sim.counters().value("log_seq", std::uint64_t{0});
    sender = setup.start_sender();
    {
        Watch watch(sender.pid());
        start = std::chrono::steady_clock::now();
        notify_every_group(*queue, groups, "T2");
        const auto all_waiting = [&] {
            return waiting_gauge(setup) == devices && Store(read_only).held_count() == devices && outbox_empty();
        };
        if (!wait_until(all_waiting, Ms(900'000), Ms(200))) {
            fail(setup, "timed out: " + std::to_string(Store(read_only).held_count()) + " of " +
                            std::to_string(devices) + " pushes waiting in the store (gauge " +
                            std::to_string(waiting_gauge(setup)) + ", 15 minutes)");
        }
        const double seconds = seconds_since(start);
        std::this_thread::sleep_for(Ms(settle_ms));
        if (sent() != sent_before || sim.counters().value("log_seq", std::uint64_t{0}) != apns_before) {
            fail(setup, "a push went to APNs instead of waiting");
        }
        row("device_min_interval_s on: every push waits, all of them stored", watch.end(), seconds);
    }

    // 3. A restart with all of them waiting.
    sender.kill_and_wait(SIGKILL);
    start = std::chrono::steady_clock::now();
    sender = setup.start_sender();
    {
        Watch watch(sender.pid());
        if (!wait_until([&] { return waiting_gauge(setup) == devices; }, Ms(60'000))) {
            fail(setup, "timed out: the restarted sender found " + std::to_string(waiting_gauge(setup)) + " of " +
                            std::to_string(devices) + " waiting pushes (60 s)");
        }
        const double seconds = seconds_since(start);
        std::this_thread::sleep_for(Ms(settle_ms));
        row("the same after SIGKILL and a restart, all still waiting", watch.end(), seconds);
    }
    sender.kill_and_wait(SIGKILL);

    // 4. All of them due at once: a sender started on them releases every one (at most
    //    Holds::max_releasing at a time) and apns-sim gets them all.
    make_all_due(setup, devices, now_unix_ms());
    const std::uint64_t sent_held = sent();
    start = std::chrono::steady_clock::now();
    sender = setup.start_sender();
    {
        Watch watch(sender.pid());
        const auto all_released = [&] {
            return sent() >= sent_held + devices && waiting_gauge(setup) == 0 && Store(read_only).held_count() == 0;
        };
        if (!wait_until(all_released, Ms(900'000), Ms(200))) {
            fail(setup, "timed out: " + std::to_string(sent() - sent_held) + " of " + std::to_string(devices) +
                            " released pushes sent (15 minutes)");
        }
        if (sent() != sent_held + devices) {
            fail(setup, "sent " + std::to_string(sent() - sent_held) + " released pushes for " +
                            std::to_string(devices) + " waiting");
        }
        const double seconds = seconds_since(start);
        std::this_thread::sleep_for(Ms(settle_ms));
        row("all of them due at once after a restart: every waiting push released and sent", watch.end(), seconds);
    }
    sender.kill_and_wait(SIGKILL);
    std::printf("store after: %.0f MiB\n", store_mib(setup));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t devices = 1'000'000, group_size = 10;
    std::uint32_t interval_s = 3600, settle_ms = 1000;
    std::string map_size = "4GiB";
    pushsync::bench::Options("bench_holds",
                             "The sender's peak RSS when N devices each get a push that waits for its budget\n"
                             "(delivery.device_min_interval_s), against the same notifies with the budget off (every\n"
                             "push sent to apns-sim), and after a restart with all N waiting; prints Markdown rows.")
        .value("--devices", "N", "devices with a push waiting", devices)
        .value("--group-size", "G", "devices per group (one notify per group)", group_size)
        .value("--interval", "S", "delivery.device_min_interval_s (longer than the run: nothing is released)",
               interval_s)
        .value("--settle-ms", "MS", "idle time before each reading", settle_ms)
        .value("--map-size", "SIZE", "store.map_size", map_size)
        .parse(argc, argv);
    if (devices == 0 || group_size == 0 || interval_s == 0) {
        std::fprintf(stderr, "bench_holds: --devices, --group-size and --interval must be above 0\n");
        return 2;
    }
    try {
        std::printf("load average at start: %s\n", load_average().c_str());
        run(devices, group_size, interval_s, settle_ms, map_size);
        std::printf("load average at end: %s\n", load_average().c_str());
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "bench_holds: %s\n", e.what());
        return 1;
    }
    return 0;
}
