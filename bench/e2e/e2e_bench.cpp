// SPDX-License-Identifier: BSD-2-Clause
// The end-to-end benchmark (BENCHMARKS.md "## End to end"): the system as it is used, many small
// groups. 100,000 groups of 3 devices; notifies with an origin (so 2 pushes each) POSTed to random
// groups through nginx (2 workers, the module) while pushsync-sender delivers to apns-sim, all on
// 127.0.0.1, in one run:
//   1. h2load's ceiling against the same simulator (pushes/s), the reference;
//   2. notify → push latency at --latency-rate (5,000/s): the generator's clock when it wrote the
//      request against the simulator's when the push was complete (its log's received_us), and the
//      CPU microseconds per notify of nginx's workers and the sender (/proc/PID/stat);
//   3. the highest notify rate sustained for --seconds with every push delivered: rates from
//      --start-rate up by --step until one is not sustained.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/e2e/load_generator.hpp"
#include "bench/fail_loudly.hpp"
#include "bench/h2load_reference.hpp"
#include "bench/options.hpp"
#include "bench/proc_stat.hpp"
#include "sender/apns/jwt.hpp"
#include "shared/config/config.hpp"
#include "shared/device.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"
#include "tests/support/apns_sim_fixture.hpp"
#include "tests/support/nginx_fixture.hpp"
#include "tests/support/process.hpp"

namespace {

using namespace pushsync;
using namespace pushsync::test;
using pushsync::bench::cpu_ms;
using Ms = std::chrono::milliseconds;

constexpr int kDevicesPerGroup = 3;

struct Settings {
    std::uint64_t groups = 100000;
    int connections = 64;
    int seconds = 30;  // each sustained-rate step
    int latency_rate = 5000;
    int latency_seconds = 30;
    int start_rate = 10000;
    double step = 1.25;
    int max_rate = 60000;
    std::uint64_t h2load_pushes = 100000;
    std::uint32_t seed = 1;
};

std::string token_of(std::uint64_t device) {
    char buf[65];
    std::snprintf(buf, sizeof buf, "%064llx", static_cast<unsigned long long>(device + 1));
    return buf;
}
std::string group_of(std::uint64_t group) { return "e2e-" + std::to_string(group); }

// apns-sim, nginx with the module and the sender sharing one pushsync.yaml, as in production but
// for the endpoint (the simulator) and coalesce_ms 0 (every notify its own push, so the latency
// is the pipeline's and the push count is exact).
class System {
public:
    explicit System(const Settings& settings)
        : sim_(sim_options()), nginx_(nginx_options(sim_)) {
        register_devices(settings.groups);
        sender_ = Process::spawn({(binary_dir() / "sender" / "pushsync-sender").string(), "--config",
                                  nginx_.config_path().string()},
                                 nginx_.prefix() / "sender.log");
        queue_ = Queue::open_existing(nginx_.queue_path().string());
        store_ = std::make_unique<Store>(StoreOptions::from(load_config(nginx_.config_path().string()).store));
        if (!wait_until([&] { return queue_->stats().consumer_heartbeat_ms > 0; }, Ms(20000))) {
            throw std::runtime_error("pushsync-sender did not start:\n" + read_file(nginx_.prefix() / "sender.log"));
        }
    }
    ~System() {
        if (sender_.running()) {
            sender_.signal(SIGTERM);
            sender_.wait(Ms(10000));
        }
    }

    const ApnsSimFixture& sim() const { return sim_; }
    const NginxFixture& nginx() const { return nginx_; }
    pid_t sender_pid() const { return sender_.pid(); }
    std::uint64_t counter(Counter c) const { return queue_->stats().counters[static_cast<unsigned>(c)]; }
    // Every accepted notify finished: none in the queue, none in the sender's outbox.
    bool idle() const { return queue_->stats().depth == 0 && store_->stats().outbox == 0; }
    const std::filesystem::path& dir() const { return nginx_.prefix(); }

private:
    static ApnsSimOptions sim_options() {
        ApnsSimOptions o;
        // Its request log goes to its file as the tests have it (the latency is read from there);
        // none is kept in memory.
        o.extra_args = {"--quiet", "--log-memory", "0"};
        return o;
    }
    static NginxOptions nginx_options(const ApnsSimFixture& sim) {
        NginxOptions n;
        n.workers = 2;
        n.queue_capacity = 65536;
        n.map_size = "2GiB";
        n.error_log_level = "warn";
        n.thread_pool_threads = 2;
        n.apps_yaml = "apps:\n  - bundle_id: com.example.app\n    auth:\n      type: token\n      team_id: " +
                      sim.team_id() + "\n      key_id: " + sim.key_id() + "\n      key_file: " + sim.key_file().string() +
                      "\n";
        n.extra_yaml = "delivery:\n  coalesce_ms: 0\napns:\n  production: " + sim.url() + "\n  sandbox: " + sim.url() +
                       "\n  ca_file: " + sim.ca_file().string() + "\nsender:\n  log_level: warn\n";
        return n;
    }
    void register_devices(std::uint64_t groups) {
        Store store(StoreOptions::from(load_config(nginx_.config_path().string()).store));
        std::vector<Registration> batch;
        for (std::uint64_t g = 0; g < groups; ++g) {
            for (int d = 0; d < kDevicesPerGroup; ++d) {
                batch.push_back(Registration{token_of(g * kDevicesPerGroup + static_cast<std::uint64_t>(d)), group_of(g),
                                             "com.example.app", Environment::production, ""});
            }
            if (batch.size() >= 30000) {
                bench::register_or_fail(store, batch, now_unix_ms());
                batch.clear();
            }
        }
        if (!batch.empty()) bench::register_or_fail(store, batch, now_unix_ms());
    }

    ApnsSimFixture sim_;
    NginxFixture nginx_;
    Process sender_;
    std::unique_ptr<Queue> queue_;
    std::unique_ptr<Store> store_;
};

// Notify request `id`: a random group (seeded by the id, so a run is repeatable), the origin its
// first device, the tail "E<id>".
class Requests {
public:
    Requests(std::uint64_t groups, std::uint32_t seed) : groups_(groups), seed_(seed) {}
    std::uint64_t group_for(std::uint64_t id) const {
        std::mt19937_64 random(seed_ * 0x9e3779b97f4a7c15ull + id);
        return random() % groups_;
    }
    std::string operator()(std::uint64_t id) const {
        const std::uint64_t g = group_for(id);
        const std::string body =
            R"({"tail":"E)" + std::to_string(id) + R"(","origin":")" + token_of(g * kDevicesPerGroup) + "\"}";
        return "POST /v1/groups/" + group_of(g) + "/notify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Content-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    }

private:
    std::uint64_t groups_;
    std::uint32_t seed_;
};

// What the simulator's log says of the pushes of one phase's notifies.
struct Deliveries {
    std::uint64_t pushes = 0;           // answered 200, tails of this phase
    std::uint64_t stale_devices = 0;    // devices whose newest push is older than their group's newest notify
    std::vector<double> latencies_ms;   // of each push, sorted (with send times)
};

// The sender pushes a group's newest tail: a notify whose pushes had not gone yet when a newer one
// of its group came is superseded, not lost (coalesce_ms 0 merges none, but a device's push still
// waiting is replaced). So "every push delivered" is: every device got the newest tail of its
// group. Reads the log lines after byte `offset` for the ids [first, first + count).
Deliveries read_deliveries(const System& system, const Requests& requests, std::uintmax_t offset, std::uint64_t first,
                           std::uint64_t count, const std::vector<std::int64_t>& send_us) {
    Deliveries out;
    std::unordered_map<std::string, std::uint64_t> newest_sent;  // token -> highest id pushed
    std::ifstream log(system.sim().log_file());
    log.seekg(static_cast<std::streamoff>(offset));
    for (std::string line; std::getline(log, line);) {
        const auto entry = nlohmann::json::parse(line, nullptr, false);
        if (!entry.is_object() || entry.value("status", 0) != 200) continue;
        const auto payload = nlohmann::json::parse(entry.value("payload", ""), nullptr, false);
        if (!payload.is_object() || !payload.contains("tail") || !payload["tail"].is_string()) continue;
        const std::string tail = payload["tail"].get<std::string>();
        if (tail.size() < 2 || tail[0] != 'E') continue;
        const std::uint64_t id = std::stoull(tail.substr(1));
        if (id < first || id - first >= count) continue;
        ++out.pushes;
        auto& newest = newest_sent[entry.value("token", "")];
        newest = std::max(newest, id + 1);
        if (id - first < send_us.size() && send_us[id - first] != 0) {
            out.latencies_ms.push_back(
                static_cast<double>(entry.value("received_us", std::int64_t{0}) - send_us[id - first]) / 1000.0);
        }
    }
    std::unordered_map<std::uint64_t, std::uint64_t> newest_notify;  // group -> highest id
    for (std::uint64_t id = first; id < first + count; ++id) {
        auto& newest = newest_notify[requests.group_for(id)];
        newest = std::max(newest, id + 1);
    }
    for (const auto& [group, newest] : newest_notify) {
        for (int d = 1; d < kDevicesPerGroup; ++d) {  // device 0 is every notify's origin
            const auto it = newest_sent.find(token_of(group * kDevicesPerGroup + static_cast<std::uint64_t>(d)));
            if (it == newest_sent.end() || it->second < newest) ++out.stale_devices;
        }
    }
    std::sort(out.latencies_ms.begin(), out.latencies_ms.end());
    return out;
}

struct Phase {
    bench::LoadResult load;
    bool settled = false;      // the sender was idle again within 2 s of the last notify
    double drain_ms = 0;       // after the last request went out, until the sender was idle
    double nginx_cpu_ms = 0;   // both workers, during the phase and its drain
    double sender_cpu_ms = 0;
    double sim_cpu_ms = 0;
    std::uint64_t pushes_failed = 0;
    Deliveries deliveries;
};

double nginx_cpu(const NginxFixture& nginx) {
    double sum = 0;
    for (pid_t pid : nginx.worker_pids()) sum += cpu_ms(pid);
    return sum;
}

// Idle: every notify finished, seen twice 20 ms apart (the simulator flushes its log file every
// loop iteration, so by then it holds every push).
bool wait_idle(const System& system, Ms timeout) {
    bool seen = false;
    return wait_until([&] { return std::exchange(seen, system.idle()) && seen; }, timeout, Ms(20));
}

Phase run_phase(const System& system, const Settings& settings, double rate, double seconds, std::uint64_t first_id,
                bool record) {
    Phase phase;
    const std::uint64_t failed0 = system.counter(Counter::pushes_failed);
    const double nginx0 = nginx_cpu(system.nginx()), sender0 = cpu_ms(system.sender_pid()),
                 sim0 = cpu_ms(system.sim().pid());
    const auto log_offset = std::filesystem::file_size(system.sim().log_file());
    bench::LoadOptions o;
    o.port = system.nginx().http_port();
    o.connections = settings.connections;
    o.rate = rate;
    o.seconds = seconds;
    o.first_id = first_id;
    o.record_send_times = record;
    const Requests requests(settings.groups, settings.seed);
    phase.load = bench::run_load(o, [&](std::uint64_t id) { return requests(id); });
    const auto sent_end = std::chrono::steady_clock::now();
    // Idle within 2 s of the last notify: a backlog that takes longer means the rate was not kept.
    phase.settled = wait_idle(system, Ms(2000));
    phase.drain_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent_end).count();
    if (!phase.settled && !wait_idle(system, Ms(120000))) {
        throw bench::Failure("timed out: the sender was not idle 120 s after the last notify at " +
                             std::to_string(static_cast<long>(rate)) + "/s (queue depth " +
                             std::to_string(system.counter(Counter::pushes_sent)) + " pushes sent)");
    }
    phase.pushes_failed = system.counter(Counter::pushes_failed) - failed0;
    phase.nginx_cpu_ms = nginx_cpu(system.nginx()) - nginx0;
    phase.sender_cpu_ms = cpu_ms(system.sender_pid()) - sender0;
    phase.sim_cpu_ms = cpu_ms(system.sim().pid()) - sim0;
    phase.deliveries = read_deliveries(system, requests, log_offset, first_id, phase.load.sent, phase.load.send_us);
    return phase;
}

bool sustained(const Phase& p, double seconds) {
    // Every notify sent on time (the generator never fell a second behind) and accepted, the
    // sender idle again within 2 s, and every device holding its group's newest tail.
    return p.load.failed == 0 && p.load.accepted == p.load.sent && p.load.max_lag_ms < 1000 &&
           p.load.send_seconds < seconds + 1 && p.settled && p.pushes_failed == 0 && p.deliveries.stale_devices == 0;
}

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return -1;
    return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * static_cast<double>(sorted.size())))];
}

std::string load_average() {
    const std::string all = read_file("/proc/loadavg");
    std::size_t cut = 0;
    for (int spaces = 0; cut < all.size() && spaces < 3; ++cut) spaces += all[cut] == ' ';
    return all.substr(0, cut > 0 ? cut - 1 : 0);
}

void print_phase(const char* label, double rate, const Phase& p) {
    std::string failures;
    for (const auto& [status, count] : p.load.failures) {
        failures += (failures.empty() ? " (" : ", ") + std::to_string(count) + " × " +
                    (status == -1 ? "connection broke" : status == 0 ? "no answer" : std::to_string(status));
    }
    if (!failures.empty()) failures += ")";
    std::printf("%s: %.0f notifies/s: sent %llu (accepted %llu, failed %llu%s) in %.2f s, max lag %.1f ms, "
                "%llu over 1 ms late; pushes %llu (failed %llu, devices without their newest tail %llu), sender idle %.0f ms "
                "after the last notify%s; "
                "CPU nginx %.0f ms, sender %.0f ms, simulator %.0f ms; load %s\n",
                label, rate, static_cast<unsigned long long>(p.load.sent), static_cast<unsigned long long>(p.load.accepted),
                static_cast<unsigned long long>(p.load.failed), failures.c_str(), p.load.send_seconds, p.load.max_lag_ms,
                static_cast<unsigned long long>(p.load.late_1ms), static_cast<unsigned long long>(p.deliveries.pushes),
                static_cast<unsigned long long>(p.pushes_failed), static_cast<unsigned long long>(p.deliveries.stale_devices),
                p.drain_ms, p.settled ? "" : " (NOT within 2 s)",
                p.nginx_cpu_ms, p.sender_cpu_ms, p.sim_cpu_ms, load_average().c_str());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    bool quick = false;
    pushsync::bench::Options("e2e_bench",
                             "nginx + module + pushsync-sender + apns-sim on 127.0.0.1: 100,000 groups of 3, notifies "
                             "with an origin to random\ngroups; h2load's ceiling, latency and CPU per notify at 5,000/s, "
                             "the highest rate sustained. Prints Markdown rows.")
        .value("--groups", "N", "groups of 3 devices", s.groups)
        .value("--connections", "N", "HTTP/1.1 keep-alive connections of the load generator", s.connections)
        .value("--seconds", "S", "length of each sustained-rate step", s.seconds)
        .value("--latency-rate", "R", "notifies/s of the latency and CPU figures", s.latency_rate)
        .value("--latency-seconds", "S", "length of the latency run", s.latency_seconds)
        .value("--start-rate", "R", "first rate tried for the sustained figure", s.start_rate)
        .value("--step", "F", "each next rate is the last times this", s.step)
        .value("--max-rate", "R", "the highest rate tried", s.max_rate)
        .value("--h2load-pushes", "N", "requests of the h2load reference", s.h2load_pushes)
        .value("--seed", "N", "the random groups' seed", s.seed)
        .flag("--quick", "a short run: 10,000 groups, 5 s steps, 5 s latency run, 20,000 h2load requests",
              [&] { quick = true; })
        .parse(argc, argv);
    if (quick) {
        s.groups = 10000;
        s.seconds = 5;
        s.latency_seconds = 5;
        s.h2load_pushes = 20000;
    }
    if (s.groups == 0 || s.connections <= 0 || s.seconds <= 0 || s.latency_rate <= 0 || s.start_rate <= 0 ||
        s.step <= 1) {
        std::fprintf(stderr, "e2e_bench: --groups, --connections, rates and seconds must be positive, --step above 1\n");
        return 2;
    }
    try {
        std::printf("load average at start: %s\n", load_average().c_str());
        const auto t0 = std::chrono::steady_clock::now();
        System system(s);
        std::printf("setup: %llu groups of %d registered, stack up in %.1f s\n", static_cast<unsigned long long>(s.groups),
                    kDevicesPerGroup, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        std::uint64_t next_id = 0;
        // Warm-up, off the record: connections, JWT, the store's pages.
        print_phase("warm-up", 2000, run_phase(system, s, 2000, 2, next_id, false));
        next_id += 4000;

        // 1. The reference: h2load's ceiling on the same simulator.
        const std::string jwt = sender::make_provider_token(
            sender::Es256Key::from_pem_file(system.sim().key_file().string()), system.sim().key_id(),
            system.sim().team_id(), std::time(nullptr));
        write_file(system.dir() / "payload.json", R"({"aps":{"content-available":1},"tail":"E0"})");
        const double h2load = bench::h2load_rate(system.sim(), jwt, (system.dir() / "payload.json").string(),
                                                 token_of(1), s.h2load_pushes, 1000);
        std::printf("h2load -c1 -m1000 -n %llu: %.0f pushes/s\n", static_cast<unsigned long long>(s.h2load_pushes),
                    h2load);

        // 2. Latency and CPU at the latency rate.
        const std::uint64_t first = next_id;
        const Phase at_rate = run_phase(system, s, s.latency_rate, s.latency_seconds, first, true);
        next_id += at_rate.load.sent;
        print_phase("latency run", s.latency_rate, at_rate);
        const auto& lat = at_rate.deliveries.latencies_ms;
        const double notifies = static_cast<double>(std::max<std::uint64_t>(at_rate.load.accepted, 1));
        const double us_nginx = at_rate.nginx_cpu_ms * 1000 / notifies, us_sender = at_rate.sender_cpu_ms * 1000 / notifies;

        // 3. The highest rate sustained.
        double best = 0;
        Phase best_phase;
        for (double rate = s.start_rate; rate <= s.max_rate; rate = std::round(rate * s.step / 100) * 100) {
            const Phase p = run_phase(system, s, rate, s.seconds, next_id, false);
            next_id += p.load.sent;
            print_phase("sustained?", rate, p);
            if (!sustained(p, s.seconds)) break;
            best = rate;
            best_phase = p;
        }

        const std::string cmd = quick ? "`build/bench/e2e/e2e_bench --quick`" : "`build/bench/e2e/e2e_bench`";
        std::printf("\n| figure | result | target | reference (same run) | command |\n|---|---|---|---|---|\n");
        std::printf("| highest notify rate sustained %d s, every push delivered (2 per notify) | %s | ≥ 20,000/s | "
                    "h2load ceiling %.0f pushes/s = %.0f notifies/s | %s |\n",
                    s.seconds, best > 0 ? (std::to_string(static_cast<long>(best)) + " notifies/s (" +
                                           std::to_string(static_cast<long>(2 * best)) + " pushes/s)").c_str()
                                        : ("none from " + std::to_string(static_cast<long>(s.start_rate))).c_str(),
                    h2load, h2load / 2, cmd.c_str());
        std::printf("| notify → push latency at %d notifies/s (%zu pushes; %llu superseded by a newer tail of their group) "
                    "| p50 %.2f ms, p99 %.2f ms, max %.1f ms | p99 < 5 ms | | %s |\n",
                    s.latency_rate, lat.size(),
                    static_cast<unsigned long long>(2 * at_rate.load.accepted - std::min(2 * at_rate.load.accepted, at_rate.deliveries.pushes)), percentile(lat, 0.50), percentile(lat, 0.99),
                    lat.empty() ? -1.0 : lat.back(), cmd.c_str());
        std::printf("| CPU per notify at %d notifies/s (nginx workers + sender) | %.0f µs (nginx %.0f + sender %.0f) | "
                    "| simulator %.0f µs | %s |\n",
                    s.latency_rate, us_nginx + us_sender, us_nginx, us_sender, at_rate.sim_cpu_ms * 1000 / notifies,
                    cmd.c_str());
        std::printf("load average at end: %s\n", load_average().c_str());
        {
            std::map<std::string, std::uint64_t> statuses;
            std::istringstream access(read_file(system.nginx().prefix() / "logs/access.log"));
            for (std::string line; std::getline(access, line);) {
                const auto end = line.find(" group=");
                const auto start = line.rfind(' ', end - 1);
                if (end != std::string::npos && start != std::string::npos) ++statuses[line.substr(start + 1, end - start - 1)];
            }
            std::string text;
            for (const auto& [status, count] : statuses) text += " " + status + " × " + std::to_string(count);
            std::printf("nginx's access log:%s\n", text.c_str());
        }
        // Anything nginx or the sender had to say (both log at warn): a benchmark that lost a
        // request or a push says why here.
        for (const auto& [name, text] : {std::pair{"nginx error log", system.nginx().error_log()},
                                         std::pair{"sender log", read_file(system.dir() / "sender.log")}}) {
            if (text.empty()) continue;
            std::fprintf(stderr, "--- %s (last 4,000 bytes)\n%s\n", name,
                         text.substr(text.size() > 4000 ? text.size() - 4000 : 0).c_str());
        }
        if (at_rate.deliveries.stale_devices != 0) {
            std::fprintf(stderr, "e2e_bench: %llu devices did not get their group's newest tail in the latency run\n",
                         static_cast<unsigned long long>(at_rate.deliveries.stale_devices));
            return 1;
        }
        if (at_rate.load.accepted != at_rate.load.sent) {
            std::fprintf(stderr, "e2e_bench: %llu of %llu notifies accepted in the latency run\n",
                         static_cast<unsigned long long>(at_rate.load.accepted),
                         static_cast<unsigned long long>(at_rate.load.sent));
            return 1;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "e2e_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
