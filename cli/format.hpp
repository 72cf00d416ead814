// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Small text and JSON forms shared by the commands.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "shared/device.hpp"
#include "shared/store/stats.hpp"

namespace pushsync::cli {

using Json = nlohmann::ordered_json;

// The device object of docs/api.md as a JSON value (same text as device_to_json).
Json device_json(const Device& device);
// A device's delivery statistics: {"sent":N,"failed":N,"last_push":{...}|null}.
Json delivery_json(const DeviceStats& stats);
// "2026-11-26T09:00:00Z tail=T status=410 reason=Unregistered apns-id=ID"; bytes outside printable
// ASCII (from APNs' answer) shown as \xNN.
std::string last_push_text(const LastPush& last);
// "850ms", "12.3s", "5m03s", "2h05m", "3d04h"; negative ages (clock skew) show as 0ms.
std::string format_age(std::int64_t ms);
// "1073741824 (1.0 GiB)"
std::string format_bytes(std::uint64_t bytes);
// Prints one JSON value on one line.
void print_json(std::ostream& out, const Json& value);

}  // namespace pushsync::cli
