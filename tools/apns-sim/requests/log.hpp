// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// apns-sim's request log line: one JSON object per request (tools/sim-common keeps and writes them).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tools/sim-common/log/counters.hpp"
#include "tools/sim-common/log/jsonl_log.hpp"

namespace apns_sim {

struct LogEntry {
    std::int64_t time_ms = 0;
    // The real clock (no control-API offset) in microseconds, when the request was complete:
    // benchmarks measure notify-to-push latency against it.
    std::int64_t received_us = 0;
    std::uint64_t connection = 0;
    std::int32_t stream = 0;
    std::string method;
    std::string path;
    std::string token;
    std::vector<std::pair<std::string, std::string>> apns_headers;  // apns-* as received
    std::string auth;  // token | certificate | none
    std::string key_id;
    std::string team_id;
    std::string payload;
    int status = 0;    // 0: no answer (fault)
    std::string reason;
    std::string apns_id;
    std::string fault;
};

class RequestLog : public sim::JsonlLog {
public:
    using JsonlLog::JsonlLog;
    void add(const LogEntry& e);
};

using sim::Counters;

}  // namespace apns_sim
