// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The operations endpoints of docs/api.md: status (JSON) and metrics (Prometheus text).
#include <cstdint>
#include <string>

#include "shared/metrics/file.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"

namespace pushsync::api {

inline constexpr std::int64_t sender_alive_ms = 5000;

bool sender_alive(const QueueStats& stats, std::int64_t now_ms) noexcept;
// `holds`: the sender's hold figures from the metrics file (nullptr: left out).
std::string status_json(const QueueStats& stats, std::int64_t now_ms, const metrics::HoldFigures* holds = nullptr);
// The same, reading the hold figures from the metrics file beside the queue (left out when it is
// absent or unreadable, the reason in `problems`). Never throws for the file.
std::string status_json(const QueueStats& stats, std::int64_t now_ms, const std::string& queue_path,
                        std::string& problems);
// The queue's figures, then (when given) the store's and the sender's delivery metrics.
std::string metrics_text(const QueueStats& stats, std::int64_t now_ms, const StoreStats* store = nullptr,
                         const metrics::Snapshot* delivery = nullptr);
// The same, gathering the rest itself: one read transaction of `store` (nullptr: left out) and
// a copy of the metrics file beside the queue (absent or unreadable: left out). Never throws for
// either; what it left out and why goes to `problems`.
std::string metrics_text(const QueueStats& stats, std::int64_t now_ms, const Store* store,
                         const std::string& queue_path, std::string& problems);

}  // namespace pushsync::api
