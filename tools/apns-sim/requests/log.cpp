// SPDX-License-Identifier: BSD-2-Clause
#include "requests/log.hpp"

namespace apns_sim {

void RequestLog::add(const LogEntry& e) {
    const std::uint64_t seq = begin();
    if (seq == 0) return;
    sim::JsonLine line(seq, 512 + e.payload.size());
    line.field("time_ms", e.time_ms)
        .field("received_us", e.received_us)
        .field("connection", static_cast<std::int64_t>(e.connection))
        .field("stream", e.stream)
        .field("method", e.method)
        .field("path", e.path)
        .field("token", e.token)
        .object("headers", e.apns_headers)
        .field("auth", e.auth)
        .field("key_id", e.key_id)
        .field("team_id", e.team_id)
        .field("payload", e.payload)
        .field("status", e.status)
        .field("reason", e.reason)
        .field("apns_id", e.apns_id)
        .field("fault", e.fault);
    JsonlLog::add(seq, std::move(line).finish());
}

}  // namespace apns_sim
