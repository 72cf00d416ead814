// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The sender's throughput rounds against a simulator, shared by bench_sender (APNs) and bench_fcm:
// a warm-up off the clock, then per round the h2load reference and the sender back to back on the
// same simulator, each round counted (exactly N pushes sent, none twice) and the last round's tail
// checked in the store. The simulator is the one fixed part and runs near a full core in both, so
// its CPU per push tells what each client's requests cost it.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench/fail_loudly.hpp"
#include "bench/proc_stat.hpp"
#include "bench/sender/sender_setup.hpp"
#include "shared/queue/queue.hpp"

namespace pushsync::bench {

struct RoundsResult {
    double best_sender = 0;
    double best_h2load = 0;
    double median_ratio = 0;
};

// `pushes` devices of group "bench", tokens token(0..pushes-1), are registered and the sender runs.
// `h2load` runs the reference once and returns its rate.
inline RoundsResult throughput_rounds(const Setup& setup, Queue& queue, pid_t sim_pid, pid_t sender_pid,
                                      std::uint64_t pushes, int rounds, std::string (*token)(std::uint64_t),
                                      const std::function<double()>& h2load) {
    using Ms = std::chrono::milliseconds;
    const auto sent = [&] { return queue.stats().counters[static_cast<unsigned>(Counter::pushes_sent)]; };
    const std::uint64_t sent0 = sent();
    enqueue_or_fail(queue, Notify{"bench", "warm", "", now_unix_ms()});
    wait_for_count(sent, sent0 + pushes, "sent", "throughput warm-up round", Ms(120000), Ms(1));
    std::vector<double> ratios;
    RoundsResult result;
    std::string tail;
    for (int round = 1; round <= rounds; ++round) {
        const double sim_cpu0 = cpu_ms(sim_pid);
        const double h2 = h2load();
        const double sim_cpu1 = cpu_ms(sim_pid);
        const double sender_cpu0 = cpu_ms(sender_pid);
        const std::uint64_t before = sent();
        const auto start = std::chrono::steady_clock::now();
        tail = "T-round-" + std::to_string(round);
        enqueue_or_fail(queue, Notify{"bench", tail, "", now_unix_ms()});
        wait_for_count(sent, before + pushes, "sent", "throughput round " + std::to_string(round), Ms(120000), Ms(1));
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double sim_cpu2 = cpu_ms(sim_pid);
        const double sender_cpu1 = cpu_ms(sender_pid);
        const double ours = static_cast<double>(pushes) / secs;
        const double per_k = 1000.0 / static_cast<double>(pushes);
        std::printf("round %d: h2load %.0f pushes/s, pushsync-sender %.0f pushes/s (ratio %.2f); CPU ms per 1000 "
                    "pushes: simulator %.1f under h2load, %.1f under the sender; sender %.1f; load %s\n",
                    round, h2, ours, ours / h2, (sim_cpu1 - sim_cpu0) * per_k, (sim_cpu2 - sim_cpu1) * per_k,
                    (sender_cpu1 - sender_cpu0) * per_k, load_average().c_str());
        std::fflush(stdout);
        ratios.push_back(ours / h2);
        result.best_sender = std::max(result.best_sender, ours);
        result.best_h2load = std::max(result.best_h2load, h2);
    }
    // Counted, not only timed: exactly N pushes a round (none twice), every device the newest tail.
    const std::uint64_t expected = sent0 + pushes * static_cast<std::uint64_t>(rounds + 1);
    if (sent() != expected) {
        throw Failure("sent " + std::to_string(sent() - sent0) + " pushes for " + std::to_string(rounds + 1) +
                      " rounds of " + std::to_string(pushes));
    }
    if (rounds > 0) expect_newest_tail(setup, pushes, tail, token);
    std::sort(ratios.begin(), ratios.end());
    result.median_ratio = ratios.empty() ? 0.0 : ratios[ratios.size() / 2];
    return result;
}

}  // namespace pushsync::bench
