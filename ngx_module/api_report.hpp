#pragma once
// The operations endpoints of http-api.md: status (JSON) and metrics (Prometheus text).
#include <cstdint>
#include <string>

#include "shared/queue.hpp"

namespace pushsync::api {

inline constexpr std::int64_t sender_alive_ms = 5000;

bool sender_alive(const QueueStats& stats, std::int64_t now_ms) noexcept;
std::string status_json(const QueueStats& stats, std::int64_t now_ms);
std::string metrics_text(const QueueStats& stats, std::int64_t now_ms);

}  // namespace pushsync::api
