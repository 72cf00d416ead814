// notify_gen: puts notifies straight into the queue file (as nginx workers do), for smoke runs and
// the sender benchmarks.
//   notify_gen QUEUE CAPACITY GROUP TAIL [ORIGIN]
//   notify_gen QUEUE CAPACITY --burst COUNT GROUPS [RATE_PER_S]   groups g0..g{GROUPS-1}, tails T-<i>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "shared/device.hpp"
#include "shared/queue.hpp"

int main(int argc, char** argv) {
    using namespace pushsync;
    if (argc < 5) {
        std::fprintf(stderr, "usage: notify_gen QUEUE CAPACITY GROUP TAIL [ORIGIN] | QUEUE CAPACITY --burst COUNT GROUPS [RATE]\n");
        return 2;
    }
    auto queue = Queue::open(argv[1], static_cast<std::uint32_t>(std::stoul(argv[2])));
    const std::string mode = argv[3];
    if (mode != "--burst") {
        const std::string origin = argc > 5 ? argv[5] : "";
        const auto result = queue->enqueue(Notify{argv[3], argv[4], origin, now_unix_ms()});
        if (result == EnqueueResult::accepted) queue->add(Counter::notifies_accepted);
        return result == EnqueueResult::accepted ? 0 : 1;
    }
    const long count = std::stol(argv[4]);
    const long groups = argc > 5 ? std::stol(argv[5]) : 1;
    const double rate = argc > 6 ? std::stod(argv[6]) : 0;
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < count; ++i) {
        if (rate > 0) std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<long>(i * 1e6 / rate)));
        const std::string group = "g" + std::to_string(i % groups);
        const std::string tail = "T-" + std::to_string(i);
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
