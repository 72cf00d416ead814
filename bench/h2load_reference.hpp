// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// h2load against a simulator with the sender's request shape (apns-sim: a background push and a
// valid JWT; fcm-sim in bench_fcm): the ceiling a benchmark's pushes/s is read against, measured
// in the same run.
#include <cstdint>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "bench/fail_loudly.hpp"
#include "tests/support/apns_sim_fixture.hpp"
#include "tests/support/process.hpp"

namespace pushsync::bench {

// Requests per second of an h2load run (`argv`) of `count` requests, from its output. Throws
// bench::Failure (with h2load's output) unless all `count` were answered 2xx: a reference that did
// not run is no reference.
inline double h2load_answered_rate(const std::vector<std::string>& argv, std::uint64_t count) {
    const auto r = test::run(argv);
    std::smatch m;
    static const std::regex finished(R"(finished in ([0-9.]+)(m?s))");
    static const std::regex codes(R"(status codes: (\d+) 2xx)");
    double seconds = 0;
    std::uint64_t ok = 0;
    if (std::regex_search(r.out, m, finished)) seconds = std::stod(m[1]) / (m[2] == "ms" ? 1000.0 : 1.0);
    if (std::regex_search(r.out, m, codes)) ok = std::stoull(m[1]);
    if (seconds == 0 || ok != count) {
        throw Failure("the h2load reference did not run: " + std::to_string(ok) + " of " + std::to_string(count) +
                      " answered 200 (exit " + std::to_string(r.exit_code) + "):\n" + r.out + r.err);
    }
    return static_cast<double>(ok) / seconds;
}

// h2load against apns-sim with the sender's request shape, `count` pushes over one connection
// with `window` streams (h2load_answered_rate's checks).
inline double h2load_rate(const test::ApnsSimFixture& sim, const std::string& jwt, const std::string& payload_file,
                          const std::string& token, std::uint64_t count, std::uint32_t window) {
    return h2load_answered_rate({"h2load", "-n", std::to_string(count), "-c", "1", "-m", std::to_string(window), "-d",
                                 payload_file, "-H", "apns-topic: com.example.app", "-H", "apns-push-type: background",
                                 "-H", "apns-priority: 5", "-H", "apns-expiration: 1900000000", "-H",
                                 "authorization: bearer " + jwt, sim.url() + "/3/device/" + token},
                                count);
}

}  // namespace pushsync::bench
