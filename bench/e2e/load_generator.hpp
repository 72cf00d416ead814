// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// An open-loop HTTP/1.1 load generator for the end-to-end benchmark: notifies to random groups
// at a fixed rate over keep-alive connections to nginx, one thread, epoll. Request i is due at
// start + i/rate whatever the answers do (wrk keeps a fixed number of requests in flight instead,
// so it cannot hold a rate); a request that finds no idle connection goes out late, and how late
// is reported, so a rate the system cannot take shows as lag rather than as a lower rate.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace pushsync::bench {

struct LoadOptions {
    int port = 0;               // nginx on 127.0.0.1
    int connections = 64;
    double rate = 5000;         // requests per second
    double seconds = 5;
    std::uint64_t first_id = 0;  // request i carries id first_id + i (its tail "E<id>")
    bool record_send_times = false;
    std::chrono::milliseconds answer_timeout{10000};  // after the last request is due
};

struct LoadResult {
    std::uint64_t sent = 0;
    std::uint64_t accepted = 0;  // 202
    std::uint64_t failed = 0;    // any other status, or a connection that broke
    // The failures by HTTP status; -1 a connection that broke, 0 no answer in time.
    std::map<int, std::uint64_t> failures;
    double send_seconds = 0;     // from start until the last request went out
    double max_lag_ms = 0;       // the latest any request went out after its due time
    std::uint64_t late_1ms = 0;  // requests that went out more than 1 ms after their due time
    // With record_send_times: the system clock in microseconds when request i was written.
    std::vector<std::int64_t> send_us;
};

// `request_for(id)` gives the whole HTTP/1.1 request for one id. Throws std::runtime_error when
// it cannot connect.
LoadResult run_load(const LoadOptions& options, const std::function<std::string(std::uint64_t id)>& request_for);

}  // namespace pushsync::bench
