// SPDX-License-Identifier: BSD-2-Clause
// The sender's benchmarks (BENCHMARKS.md "## Sender"), against apns-sim on loopback, each with its
// baseline measured in the same run:
//   1. pushes/s of the whole pipeline (queue → outbox → fan-out → dedupe → one HTTP/2
//      connection → record) against h2load on the same simulator, payload and concurrency;
//   2. notify → push latency (queue enqueue → request received by the simulator) at 1,000
//      notifies/s with coalesce_ms 0, p50/p99;
//   3. sender RSS with 1,000,000 devices registered and 10,000 pushes in flight.
// Usage: bench_sender [--pushes N] [--rounds R] [--rate N] [--seconds S] [--devices N] [--skip-rss] [--smoke]
// Any figure not measured as described (a registration refused, a wait timed out, h2load not run,
// fewer pushes or tails than asked for) ends it with one line on stderr and exit 1.
#include <algorithm>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <optional>
#include <fcntl.h>
#include <atomic>
#include <sstream>
#include <unistd.h>
#include <string>
#include <thread>
#include <vector>

#include "bench/fail_loudly.hpp"
#include "bench/h2load_reference.hpp"
#include "bench/options.hpp"
#include "bench/proc_stat.hpp"
#include "bench/sender/sender_setup.hpp"
#include "bench/sender/throughput_rounds.hpp"
#include "sender/apns/jwt.hpp"
#include "shared/device.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"
#include "tests/support/apns_sim_fixture.hpp"
#include "tests/support/process.hpp"

namespace {

using namespace pushsync;
using namespace pushsync::test;
using namespace pushsync::bench;
using Ms = std::chrono::milliseconds;

std::uint64_t sent_counter(Queue& q) { return q.stats().counters[static_cast<unsigned>(Counter::pushes_sent)]; }

using pushsync::bench::cpu_ms;
using pushsync::bench::h2load_rate;

void bench_throughput(std::uint64_t pushes, int rounds) {
    ApnsSimOptions so;
    so.extra_args = {"--quiet", "--initial-streams", "1000", "--log-memory", "0"};
    ApnsSimFixture sim(so);
    Setup setup(sim, "  coalesce_ms: 0\n", "1GiB");
    setup.register_devices(1, pushes, "bench");
    Process sender = setup.start_sender();
    auto queue = setup.open_queue();
    const std::string jwt = sender::make_provider_token(sender::Es256Key::from_pem_file(sim.key_file().string()),
                                                        sim.key_id(), sim.team_id(), std::time(nullptr));
    write_file(setup.dir / "payload.json", R"({"aps":{"content-available":1},"tail":"T-round-1"})");
    // (The sender must send `authorization` and `:path` never indexed, docs/apns.md; h2load indexes all.)
    const RoundsResult r = throughput_rounds(setup, *queue, sim.pid(), sender.pid(), pushes, rounds, token_of, [&] {
        return h2load_rate(sim, jwt, (setup.dir / "payload.json").string(), token_of(0), pushes, 1000);
    });
    sender.signal(SIGTERM);
    sender.wait(Ms(10000));
    std::printf("| pushes/s, one connection, 1000 streams (best of %d; %llu pushes a round, all sent, every device its "
                "newest tail) | %.0f | h2load -c1 -m1000: %.0f | %.2f (median of the rounds' ratios: %.2f) |\n",
                rounds, static_cast<unsigned long long>(pushes), r.best_sender, r.best_h2load,
                r.best_h2load > 0 ? r.best_sender / r.best_h2load : 0.0, r.median_ratio);
}

// Writes 64 KiB and fdatasyncs it in a loop beside the store until stopped: a busy disk for the
// sender's own fsyncs, and the fsync latency that a push would wait for if it waited for the disk.
class FsyncLoad {
public:
    explicit FsyncLoad(const std::filesystem::path& file) : thread_([this, file] { run(file); }) {}
    ~FsyncLoad() { stop(); }
    std::vector<double> stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        std::sort(latencies_ms_.begin(), latencies_ms_.end());
        return latencies_ms_;
    }

private:
    void run(const std::filesystem::path& file) {
        const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) return;
        const std::string block(64 * 1024, 'x');
        for (off_t offset = 0; !stop_; offset = (offset + 64 * 1024) % (64 << 20)) {
            const auto start = std::chrono::steady_clock::now();
            if (::pwrite(fd, block.data(), block.size(), offset) < 0 || ::fdatasync(fd) != 0) break;
            latencies_ms_.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        }
        ::close(fd);
    }
    std::atomic<bool> stop_{false};
    std::vector<double> latencies_ms_;
    std::thread thread_;
};

void bench_latency(int rate, int seconds, const std::string& sync, bool busy_disk = false) {
    ApnsSimOptions so;
    so.extra_args = {"--quiet"};
    ApnsSimFixture sim(so);
    Setup setup(sim, "  coalesce_ms: 0\n", "1GiB", 10000, sync);
    const int groups = 1000;
    setup.register_devices(groups, 1);
    Process sender = setup.start_sender();
    auto queue = setup.open_queue();
    const auto sent = [&] { return sent_counter(*queue); };
    enqueue_or_fail(*queue, Notify{"g0", "warm", "", now_unix_ms()});
    wait_for_count(sent, 1, "sent", "latency warm-up", Ms(10000), Ms(1));
    const std::uint64_t seq0 = sim.counters().value("log_seq", std::uint64_t{0});
    const int total = rate * seconds;
    std::vector<std::int64_t> enqueued(total);
    std::optional<FsyncLoad> load;
    if (busy_disk) load.emplace(setup.dir / "fsync-load");
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < total; ++i) {
        std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<long>(i * 1e6 / rate)));
        const std::string group = "g" + std::to_string(i % groups);
        const std::string tail = "L-" + std::to_string(i);
        enqueued[i] = now_unix_ms();
        enqueue_or_fail(*queue, Notify{group, tail, "", enqueued[i]});
    }
    wait_for_count(sent, 1 + static_cast<std::uint64_t>(total), "sent", "latency run", Ms(60000));
    std::vector<std::int64_t> latencies;
    for (const auto& e : sim.request_log(seq0)) {
        const std::string payload = e.value("payload", "");
        const auto tail = nlohmann::json::parse(payload)["tail"].get<std::string>();
        if (tail.rfind("L-", 0) != 0) continue;
        const int i = std::stoi(tail.substr(2));
        latencies.push_back(e.value("time_ms", std::int64_t{0}) - enqueued[i]);
    }
    // Each group's notifies are a second apart: none supersedes another, so each is one push.
    if (latencies.size() != static_cast<std::size_t>(total)) {
        throw Failure("the simulator logged " + std::to_string(latencies.size()) + " of " + std::to_string(total) +
                      " pushes of the latency run");
    }
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) { return latencies.empty() ? -1 : latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * latencies.size()))]; };
    sender.signal(SIGTERM);
    sender.wait(Ms(10000));
    std::string baseline = "ms resolution (simulator log)";
    if (load) {
        const std::vector<double> fsyncs = load->stop();
        auto fpct = [&](double p) { return fsyncs.empty() ? -1.0 : fsyncs[std::min(fsyncs.size() - 1, static_cast<std::size_t>(p * fsyncs.size()))]; };
        char buf[160];
        std::snprintf(buf, sizeof buf, "fdatasync of 64 KiB in a loop beside it, same run: p50 %.1f ms, p99 %.1f ms, max %.0f ms (%zu)",
                      fpct(0.50), fpct(0.99), fsyncs.empty() ? -1.0 : fsyncs.back(), fsyncs.size());
        baseline = buf;
    }
    std::printf("| notify → push latency at %d notifies/s, coalesce_ms 0, store.sync %s%s (%zu pushes; load %s) | p50 %lld ms, p99 %lld ms, max %lld ms | %s | |\n",
                rate, sync.c_str(), load ? ", a busy disk" : "", latencies.size(), load_average().c_str(),
                static_cast<long long>(pct(0.50)), static_cast<long long>(pct(0.99)),
                static_cast<long long>(latencies.empty() ? -1 : latencies.back()), baseline.c_str());
}

void bench_rss(std::uint64_t devices) {
    ApnsSimOptions so;
    so.extra_args = {"--quiet", "--log-memory", "0"};
    ApnsSimFixture sim(so);
    Setup setup(sim, "  coalesce_ms: 0\n", "4GiB", 600000);
    const std::uint64_t inflight = 10000;
    const auto t0 = std::chrono::steady_clock::now();
    setup.register_devices(1, inflight, "inflight");
    {
        // The rest in groups of 10, token numbers after the in-flight group's.
        Store store(StoreOptions::from(setup.config().store));
        std::vector<Registration> batch;
        for (std::uint64_t n = inflight; n < devices; ++n) {
            batch.push_back(Registration{token_of(n), "r" + std::to_string(n / 10), "com.example.app",
                                         Environment::production, ""});
            if (batch.size() == 20000) {
                register_or_fail(store, batch, now_unix_ms());
                batch.clear();
            }
        }
        if (!batch.empty()) register_or_fail(store, batch, now_unix_ms());
    }
    const double reg_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Process sender = setup.start_sender();
    const long idle = proc_status_kib(sender.pid(), "VmRSS");
    sim.add_fault({{"kind", "silence"}, {"count", -1}});  // nothing is answered: all stay in flight
    auto queue = setup.open_queue();
    enqueue_or_fail(*queue, Notify{"inflight", "R1", "", now_unix_ms()});
    // The simulator holds the 1,000 streams one connection allows; the other 9,000 wait in the client.
    const auto held = [&] { return sim.counters().value("log_seq", std::uint64_t{0}); };
    wait_for_count(held, 1000, "pushes held unanswered by the simulator", "RSS with 10,000 in flight", Ms(60000), Ms(20));
    std::this_thread::sleep_for(Ms(500));  // let the fan-out settle before reading RSS
    const long loaded = proc_status_kib(sender.pid(), "VmRSS");
    std::printf("rss: simulator holds %llu unanswered pushes; the rest of the %llu wait in the client\n",
                static_cast<unsigned long long>(held()), static_cast<unsigned long long>(inflight));
    sender.kill_and_wait(9);
    std::printf("| sender RSS, %llu devices registered (%.0f s to register), %llu pushes in flight (load %s) | %.1f MiB | idle after start: %.1f MiB | |\n",
                static_cast<unsigned long long>(devices), reg_s, static_cast<unsigned long long>(inflight),
                load_average().c_str(), loaded / 1024.0, idle / 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t pushes = 50000, devices = 1000000;
    int rounds = 3, rate = 1000, seconds = 5;
    bool rss = true, throughput = true, latency = true, smoke = false;
    pushsync::bench::Options("bench_sender",
                             "The sender against apns-sim: pushes/s beside h2load, notify-to-push latency, RSS with "
                             "many devices;\nprints Markdown rows for BENCHMARKS.md.")
        .value("--pushes", "N", "pushes per throughput round", pushes)
        .value("--rounds", "R", "throughput rounds (the median is shown)", rounds)
        .value("--rate", "N", "notifies per second in the latency runs", rate)
        .value("--seconds", "S", "length of each latency run", seconds)
        .value("--devices", "N", "devices registered for the RSS figure", devices)
        .flag("--skip-rss", "leave out the RSS figure", [&] { rss = false; })
        .flag("--only-rss", "only the RSS figure", [&] { throughput = latency = false; })
        .flag("--only-latency", "only the latency figures", [&] { throughput = rss = false; })
        .flag("--only-throughput", "only the throughput figure", [&] { latency = rss = false; })
        .flag("--smoke",
              "seconds, not figures: 2,000 pushes in one group, one round, 200 notifies/s for 1 s, 20,000 devices "
              "(ctest's bench_smoke: every figure is counted, none is timed)",
              [&] { smoke = true; })
        .parse(argc, argv);
    if (smoke) {
        pushes = 2000;
        rounds = 1;
        rate = 200;
        seconds = 1;
        devices = 20000;
    }
    if (pushes == 0 || rate <= 0 || seconds <= 0 || devices < 10000) {
        std::fprintf(stderr, "bench_sender: --pushes, --rate and --seconds must be above 0, --devices at least 10000\n");
        return 2;
    }
    try {
        std::printf("load average at start: %s\n", load_average().c_str());
        std::printf("| benchmark | pushsync-sender | baseline (same run) | ratio |\n|---|---|---|---|\n");
        std::fflush(stdout);
        if (throughput) bench_throughput(pushes, rounds);
        std::fflush(stdout);
        if (latency) {
            bench_latency(rate, seconds, "interval");
            std::fflush(stdout);
            bench_latency(rate, seconds, "always");
            std::fflush(stdout);
            bench_latency(rate, seconds, "always", true);
        }
        std::fflush(stdout);
        if (rss) bench_rss(devices);
        std::printf("load average at end: %s\n", load_average().c_str());
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "bench_sender: %s\n", e.what());
        return 1;
    }
    return 0;
}
