// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// fcm-sim's request log line: one JSON object per request, /token and sends alike
// (tools/sim-common keeps and writes them).
#include <cstdint>
#include <string>

#include "tools/sim-common/log/jsonl_log.hpp"

namespace fcm_sim {

struct LogEntry {
    std::int64_t time_ms = 0;      // the simulator's clock (with the control API's offset)
    // The real clock (no offset) in microseconds, when the request was complete: benchmarks
    // measure notify-to-push latency against it.
    std::int64_t received_us = 0;
    std::uint64_t connection = 0;
    std::int32_t stream = 0;
    std::string method;
    std::string path;
    std::string endpoint;          // token | send | other
    std::string project;           // send: from the path; token: the account's project
    std::string client_email;      // token: the assertion's iss
    std::string kid;               // token: the assertion's kid
    std::string token;             // send: message.token
    std::string tail;              // send: message.data.tail
    std::string priority;
    std::string ttl;
    std::string collapse_key;
    std::string body;              // send: the request body as received (up to a cap)
    int status = 0;                // 0: no answer (fault)
    std::string error;             // send: FcmError errorCode, else google.rpc status; token: OAuth error
    std::string message;           // the error's message or error_description
    std::string fault;
};

class RequestLog : public sim::JsonlLog {
public:
    using JsonlLog::JsonlLog;
    void add(const LogEntry& e);
};

}  // namespace fcm_sim
