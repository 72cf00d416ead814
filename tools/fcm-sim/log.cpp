// SPDX-License-Identifier: BSD-2-Clause
#include "log.hpp"

#include <utility>

namespace fcm_sim {

void RequestLog::add(const LogEntry& e) {
    const std::uint64_t seq = begin();
    if (seq == 0) return;
    sim::JsonLine line(seq, 512 + e.body.size());
    line.field("time_ms", e.time_ms)
        .field("received_us", e.received_us)
        .field("connection", static_cast<std::int64_t>(e.connection))
        .field("stream", e.stream)
        .field("method", e.method)
        .field("path", e.path)
        .field("endpoint", e.endpoint)
        .field("project", e.project)
        .field("client_email", e.client_email)
        .field("kid", e.kid)
        .field("token", e.token)
        .field("tail", e.tail)
        .field("priority", e.priority)
        .field("ttl", e.ttl)
        .field("collapse_key", e.collapse_key)
        .field("body", e.body)
        .field("status", e.status)
        .field("errorCode", e.error)
        .field("message", e.message)
        .field("fault", e.fault);
    JsonlLog::add(seq, std::move(line).finish());
}

}  // namespace fcm_sim
