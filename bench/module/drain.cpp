// SPDX-License-Identifier: BSD-2-Clause
// A stand-in consumer for benchmarks: empties the notify queue as fast as it fills (read + commit,
// heartbeat) every 2 ms, so notify throughput measures the module, not a full ring.
//   pushsync_bench_drain QUEUE_FILE SECONDS
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <thread>
#include <vector>

#include "bench/options.hpp"
#include "shared/device.hpp"
#include "shared/queue/queue.hpp"

int main(int argc, char** argv) {
    std::string queue_file;
    int seconds = 0;
    pushsync::bench::Options("pushsync_bench_drain",
                             "A stand-in consumer: empties the notify queue (read + commit, heartbeat) every 2 ms.")
        .required("QUEUE_FILE", "the queue file nginx writes", queue_file)
        .required("SECONDS", "how long to run", seconds)
        .parse(argc, argv);
    try {
        auto queue = pushsync::Queue::open_existing(queue_file);
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        std::vector<pushsync::QueuedNotify> batch;
        std::uint64_t drained = 0;
        while (std::chrono::steady_clock::now() < until) {
            batch.clear();
            queue->heartbeat(pushsync::now_unix_ms());
            // Poll rather than sleep on the futex: a consumer woken by every notify would take a
            // context switch per request from the 2 cores nginx and wrk share.
            if (queue->read(batch, 4096, std::chrono::milliseconds(0)) == 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
                continue;
            }
            queue->commit(batch.back().position + 1);
            drained += batch.size();
        }
        std::printf("drained %llu\n", static_cast<unsigned long long>(drained));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pushsync_bench_drain: %s\n", e.what());
        return 1;
    }
    return 0;
}
