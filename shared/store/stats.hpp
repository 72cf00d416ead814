// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What the store keeps about deliveries, beside the devices (docs/hosting.md, "Delivery statistics and metrics"): per device
// the last push and how many were sent and failed, the number of devices per app and
// environment, and a bounded ring of recent events (failures, prunes, credential alerts).
// The sender writes them (Store::record_delivery) in the transactions it already commits; the
// admin page, the CLI and the metrics endpoint read them. None of it is part of the device object
// of docs/api.md: export leaves it out.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shared/device.hpp"

namespace pushsync {

// One APNs answer to a push (or its absence: status 0, reason "Timeout", "ConnectionLost", ...).
struct LastPush {
    std::int64_t time_ms = 0;  // Unix milliseconds of the answer
    std::string tail;
    int status = 0;
    std::string reason;   // empty for 200
    std::string apns_id;  // empty when APNs gave none
    bool operator==(const LastPush&) const = default;
};

struct DeviceStats {
    std::optional<LastPush> last_push;  // nullopt: nothing pushed to it yet
    std::uint64_t sent = 0;             // pushes APNs accepted (200)
    std::uint64_t failed = 0;           // pushes given up on (rejected, retries exhausted, unroutable)
    bool operator==(const DeviceStats&) const = default;
};

// What record_delivery adds to a device's statistics.
struct PushOutcome {
    enum class Count : std::uint8_t { none, sent, failed };
    std::string token;
    std::optional<LastPush> answer;  // nullopt: no answer to remember (e.g. an unroutable device)
    Count count = Count::none;       // none: an answer that leads to a retry or a hold
};

enum class EventKind : std::uint8_t { failed = 1, pruned = 2, credentials = 3 };
std::string_view to_string(EventKind kind) noexcept;

struct StoreEvent {
    std::uint64_t seq = 0;  // assigned by the store, increasing; 0 before
    std::int64_t time_ms = 0;
    EventKind kind = EventKind::failed;
    std::string group;         // empty for credential alerts (they concern an app)
    std::string token_prefix;  // the token's first 8 hex digits; empty for credential alerts
    std::string reason;        // e.g. "410 Unregistered", "403 InvalidProviderToken com.example.app/production"
    bool operator==(const StoreEvent&) const = default;
};

struct AppDeviceCount {
    std::string bundle_id;
    Environment environment = Environment::production;
    std::uint64_t devices = 0;
    Platform platform = Platform::apns;
    bool operator==(const AppDeviceCount&) const = default;
};

// The ring of recent events keeps this many; older ones go as newer ones are added.
inline constexpr std::size_t recent_events_kept = 500;

}  // namespace pushsync
