// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A benchmark that did not measure what it set out to says so and exits non-zero instead of
// printing a rate: a set-up whose registrations were refused, a wait that timed out, a reference
// that did not run. Thrown as Failure and caught in main (so the simulator, the sender and nginx
// are stopped by their destructors), printed as one line on stderr.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>

#include "shared/store/store.hpp"
#include "tests/support/process.hpp"

namespace pushsync::bench {

struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Registers the batch; any registration refused (group_full: store.max_devices_per_group below the
// group the benchmark builds) ends the benchmark: "N registrations refused".
inline void register_or_fail(Store& store, std::span<const Registration> batch, std::int64_t now_ms) {
    const std::vector<RegisterResult> results = store.register_devices(batch, now_ms);
    const auto refused = std::count_if(results.begin(), results.end(), [](const RegisterResult& r) { return r.group_full; });
    if (refused > 0) {
        throw Failure(std::to_string(refused) + " registrations refused (group_full: store.max_devices_per_group is " +
                      std::to_string(store.options().max_devices_per_group) + ", below the group the set-up builds)");
    }
}

// Waits until `count()` reaches `target`; a timeout is an error: "timed out: X of N sent".
// `what` names the count ("sent", "received", ...) and `where` the step that waited.
inline void wait_for_count(const std::function<std::uint64_t()>& count, std::uint64_t target, const std::string& what,
                           const std::string& where, std::chrono::milliseconds timeout,
                           std::chrono::milliseconds interval = std::chrono::milliseconds(5)) {
    if (test::wait_until([&] { return count() >= target; }, timeout, interval)) return;
    throw Failure("timed out: " + std::to_string(count()) + " of " + std::to_string(target) + " " + what + " (" + where +
                  ", after " + std::to_string(timeout.count() / 1000) + " s)");
}

// Waits until `condition` holds; a timeout is an error naming what did not happen.
inline void wait_or_fail(const std::function<bool()>& condition, const std::string& what,
                         std::chrono::milliseconds timeout,
                         std::chrono::milliseconds interval = std::chrono::milliseconds(5)) {
    if (!test::wait_until(condition, timeout, interval)) {
        throw Failure("timed out: " + what + " (after " + std::to_string(timeout.count() / 1000) + " s)");
    }
}

// "1.23 0.98 0.75": the load average beside every figure (the machine is shared).
inline std::string load_average() {
    std::FILE* f = std::fopen("/proc/loadavg", "r");
    if (!f) return "?";
    char buf[128] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    std::string all(buf, n);
    std::size_t cut = 0;
    for (int spaces = 0; cut < all.size() && spaces < 3; ++cut) spaces += all[cut] == ' ';
    return all.substr(0, cut > 0 ? cut - 1 : 0);
}

}  // namespace pushsync::bench
