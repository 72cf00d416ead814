// SPDX-License-Identifier: BSD-2-Clause
// Pushes per second of ApnsClient over ONE connection to apns-sim, against h2load -c1 -m<window>
// on the same simulator, with the same payload, headers (including a valid JWT) and concurrency,
// in the same run. Prints both rates and the ratio (issue target: at least 0.8).
//
// Usage: bench_apns_client [--pushes N] [--window W] [--rounds R]
// The simulator runs with --initial-streams equal to --max-streams: h2load opens its streams
// before it has seen the server's SETTINGS and would trip the one-stream-until-authorised limit.
#include <ev.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <regex>
#include <string>
#include <vector>

#include "bench/fail_loudly.hpp"
#include "bench/options.hpp"
#include "sender/apns/client.hpp"
#include "sender/apns/jwt.hpp"
#include "tests/sender/apns/sim_process.hpp"
#include "tests/support/process.hpp"

namespace {

using pushsync::sender::ApnsClient;
using pushsync::sender::ConnectionConfig;
using pushsync::sender::PushRequest;
using pushsync::sender::PushResponse;

const std::string token = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
const std::string payload = R"({"aps":{"content-available":1},"tail":"e1c3b7a4-5d2f-4c1e-9a8b-0f6d2e4a7c91"})";
constexpr std::int64_t expiration = 1900000000;
// How long the warm-up or one round may take before the benchmark fails (a round of 200,000
// pushes takes about 2 s here).
constexpr double kStepSeconds = 120;

// Breaks the loop after kStepSeconds; `fired` says it did.
struct Watchdog {
    explicit Watchdog(struct ev_loop* loop) : loop_(loop) {
        ev_timer_init(&timer_, on_timer, kStepSeconds, 0);
        timer_.data = this;
        ev_timer_start(loop_, &timer_);
    }
    ~Watchdog() { ev_timer_stop(loop_, &timer_); }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
    static void on_timer(struct ev_loop* loop, ev_timer* timer, int) {
        static_cast<Watchdog*>(timer->data)->fired = true;
        ev_break(loop, EVBREAK_ALL);
    }
    bool fired = false;

private:
    struct ev_loop* loop_;
    ev_timer timer_{};
};

struct Run {
    double seconds = 0;
    double cpu_seconds = 0;  // of the client process alone (user + system)
    std::uint64_t ok = 0;
    std::uint64_t failed = 0;
};

double cpu_seconds(int who) {
    rusage usage{};
    getrusage(who, &usage);
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// Keeps `window` pushes outstanding until `count` were answered, as h2load -m does.
Run run_client(struct ev_loop* loop, const ConnectionConfig& config, std::uint64_t count, std::uint32_t window) {
    Run run;
    std::uint64_t sent = 0;
    std::uint64_t warmed = 0;
    bool measuring = false;
    ApnsClient* client_ptr = nullptr;
    auto next = [&] {
        PushRequest request;
        request.token = token;
        request.topic = "com.example.app";
        request.payload = payload;
        request.expiration_unix_s = expiration;
        request.tag = sent++;
        client_ptr->send(std::move(request));
    };
    ApnsClient client(loop, config, [&](const PushResponse& response) {
        if (!measuring) {
            ++warmed;
            return;
        }
        (response.status == 200 ? run.ok : run.failed) += 1;
        if (sent < count) next();
        if (run.ok + run.failed == count) ev_break(loop, EVBREAK_ALL);
    });
    client_ptr = &client;
    // Warm up: connect, get the JWT accepted and the stream limit raised, off the clock.
    for (int i = 0; i < 100; ++i) next();
    {
        Watchdog watchdog(loop);
        while (warmed < 100 && !watchdog.fired) ev_run(loop, EVRUN_ONCE);
        if (watchdog.fired) {
            throw pushsync::bench::Failure("timed out: " + std::to_string(warmed) + " of 100 warm-up pushes answered");
        }
    }
    measuring = true;
    sent = 0;
    auto start = std::chrono::steady_clock::now();
    double cpu_start = cpu_seconds(RUSAGE_SELF);
    for (std::uint32_t i = 0; i < window && sent < count; ++i) next();
    {
        Watchdog watchdog(loop);
        ev_run(loop, 0);
        if (watchdog.fired) {
            throw pushsync::bench::Failure("timed out: " + std::to_string(run.ok + run.failed) + " of " +
                                           std::to_string(count) + " pushes answered");
        }
    }
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    run.cpu_seconds = cpu_seconds(RUSAGE_SELF) - cpu_start;
    client.shutdown(1000);
    ev_run(loop, 0);
    return run;
}

Run run_h2load(const pushsync::sender::test::SimProcess& sim, const std::string& jwt, const std::string& payload_file,
               std::uint64_t count, std::uint32_t window) {
    double cpu_start = cpu_seconds(RUSAGE_CHILDREN);  // h2load is reaped by run(); the simulator is not yet
    auto result = pushsync::test::run({"h2load", "-n", std::to_string(count), "-c", "1", "-m", std::to_string(window),
                                       "-d", payload_file, "-H", "apns-topic: com.example.app", "-H",
                                       "apns-push-type: background", "-H", "apns-priority: 5", "-H",
                                       "apns-expiration: " + std::to_string(expiration), "-H",
                                       "authorization: bearer " + jwt, sim.url() + "/3/device/" + token});
    Run run;
    run.cpu_seconds = cpu_seconds(RUSAGE_CHILDREN) - cpu_start;
    std::smatch m;
    static const std::regex finished(R"(finished in ([0-9.]+)(m?s))");
    static const std::regex codes(R"(status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx)");
    if (std::regex_search(result.out, m, finished)) {
        run.seconds = std::stod(m[1]) / (m[2] == "ms" ? 1000.0 : 1.0);
    }
    if (std::regex_search(result.out, m, codes)) {
        run.ok = std::stoull(m[1]);
        run.failed = count - run.ok;
    }
    if (run.seconds == 0 || run.ok + run.failed != count) {
        throw pushsync::bench::Failure("h2load output not understood (exit " + std::to_string(result.exit_code) +
                                       "):\n" + result.out + result.err);
    }
    return run;
}

}  // namespace

static int run_benchmark(int argc, char** argv) {
    std::uint64_t pushes = 200000;
    std::uint32_t window = 100;
    int rounds = 3;
    pushsync::bench::Options("bench_apns_client",
                             "Pushes/s of ApnsClient over one connection to apns-sim, beside h2load -c1 -m<window> "
                             "in the same run.")
        .value("--pushes", "N", "pushes per round", pushes)
        .value("--window", "W", "concurrent streams", window)
        .value("--rounds", "R", "rounds (the median is shown)", rounds)
        .parse(argc, argv);
    pushsync::sender::test::SimProcess sim(
        {"--quiet", "--log-memory", "0", "--initial-streams", "1000", "--max-streams", "1000"});
    ConnectionConfig config;
    config.url = sim.url();
    config.ca_file = sim.ca_file().string();
    config.connections = 1;
    config.auth.team_id = sim.team_id();
    config.auth.key_id = sim.key_id();
    config.auth.key_file = sim.key_file().string();
    config.log = [](pushsync::LogLevel level, const std::string& line) {
        if (level <= pushsync::LogLevel::warn) std::fprintf(stderr, "%s\n", line.c_str());
    };
    std::string jwt = pushsync::sender::make_provider_token(pushsync::sender::Es256Key::from_pem_file(sim.key_file().string()),
                                                           sim.key_id(), sim.team_id(), std::time(nullptr));
    pushsync::test::TempDir dir;
    std::string payload_file = (dir / "payload.json").string();
    pushsync::test::write_file(payload_file, payload);

    struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
    double best_client = 0, best_h2load = 0;
    std::vector<double> ratios;
    std::printf("pushes per round: %llu, concurrency: %u streams on 1 connection\n",
                static_cast<unsigned long long>(pushes), window);
    for (int round = 1; round <= rounds; ++round) {  // interleaved, so drift hits both alike
        Run h2 = run_h2load(sim, jwt, payload_file, pushes, window);
        Run ours = run_client(loop, config, pushes, window);
        // A rate over refused pushes measures the refusals.
        if (h2.failed != 0 || ours.failed != 0) {
            throw pushsync::bench::Failure("round " + std::to_string(round) + ": " + std::to_string(h2.failed) +
                                           " h2load and " + std::to_string(ours.failed) + " ApnsClient pushes failed");
        }
        double h2_rate = h2.seconds > 0 ? h2.ok / h2.seconds : 0;
        double our_rate = ours.seconds > 0 ? ours.ok / ours.seconds : 0;
        std::printf("round %d: h2load %.0f/s (%llu ok, %llu failed, %.2f us CPU/push)  "
                    "ApnsClient %.0f/s (%llu ok, %llu failed, %.2f us CPU/push)\n",
                    round, h2_rate, static_cast<unsigned long long>(h2.ok), static_cast<unsigned long long>(h2.failed),
                    h2.cpu_seconds * 1e6 / pushes, our_rate, static_cast<unsigned long long>(ours.ok),
                    static_cast<unsigned long long>(ours.failed), ours.cpu_seconds * 1e6 / pushes);
        if (h2_rate > 0) ratios.push_back(our_rate / h2_rate);
        best_h2load = std::max(best_h2load, h2_rate);
        best_client = std::max(best_client, our_rate);
    }
    ev_loop_destroy(loop);
    std::sort(ratios.begin(), ratios.end());
    std::printf("best: h2load %.0f pushes/s, ApnsClient %.0f pushes/s, ratio of bests %.2f, median round ratio %.2f\n",
                best_h2load, best_client, best_h2load > 0 ? best_client / best_h2load : 0.0,
                ratios.empty() ? 0.0 : ratios[ratios.size() / 2]);
    return 0;
}

int main(int argc, char** argv) {
    try {
        return run_benchmark(argc, argv);
    } catch (const pushsync::bench::Failure& e) {
        std::fprintf(stderr, "bench_apns_client: %s\n", e.what());
        return 1;
    }
}
