// SPDX-License-Identifier: BSD-2-Clause
// notify_gen: puts notifies straight into the queue file (as nginx workers do), for smoke runs and
// the sender benchmarks.
//   notify_gen QUEUE CAPACITY GROUP TAIL [ORIGIN]
//   notify_gen --burst COUNT [--groups N] [--rate R] QUEUE CAPACITY   groups g0..g{N-1}, tails T-<i>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "bench/options.hpp"
#include "shared/device.hpp"
#include "shared/queue/queue.hpp"

int main(int argc, char** argv) {
    using namespace pushsync;
    std::string path, group, tail, origin;
    std::uint32_t capacity = 0;
    long count = 0, groups = 1;
    double rate = 0;
    bench::Options("notify_gen",
                   "Puts notifies straight into the queue file, as nginx workers do: one (GROUP TAIL [ORIGIN]),\n"
                   "or a burst of COUNT to groups g0..g{N-1} with tails T-<i>.")
        .required("QUEUE", "the queue file", path)
        .required("CAPACITY", "its capacity (a power of two)", capacity)
        .positional("GROUP", "one notify's group", group)
        .positional("TAIL", "its tail", tail)
        .positional("ORIGIN", "its origin token", origin)
        .value("--burst", "COUNT", "notifies of a burst instead of one", count)
        .value("--groups", "N", "groups of the burst", groups)
        .value("--rate", "R", "notifies per second of the burst (0: as fast as possible)", rate)
        .parse(argc, argv);
    if (count == 0 && (group.empty() || tail.empty())) {
        std::fprintf(stderr, "notify_gen: give GROUP and TAIL, or --burst COUNT (see --help)\n");
        return 2;
    }
    auto queue = Queue::open(path, capacity);
    if (count == 0) {
        const auto result = queue->enqueue(Notify{group, tail, origin, now_unix_ms()});
        if (result == EnqueueResult::accepted) queue->add(Counter::notifies_accepted);
        return result == EnqueueResult::accepted ? 0 : 1;
    }
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < count; ++i) {
        if (rate > 0) std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<long>(i * 1e6 / rate)));
        group = "g" + std::to_string(i % groups);
        tail = "T-" + std::to_string(i);
        // Only full and passed_over pass with time; anything else (invalid) never will.
        for (;;) {
            const auto result = queue->enqueue(Notify{group, tail, "", now_unix_ms()});
            if (result == EnqueueResult::accepted) break;
            if (result != EnqueueResult::full && result != EnqueueResult::passed_over) {
                std::fprintf(stderr, "notify_gen: enqueue of group=%s tail=%s refused (invalid): giving up\n",
                             group.c_str(), tail.c_str());
                return 1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        queue->add(Counter::notifies_accepted);
    }
    return 0;
}
