// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The device record of docs/api.md, as the store keeps it and the API returns it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pushsync {

enum class Environment : std::uint8_t { production = 0, sandbox = 1 };

// Which push service reaches a device (docs/api.md 1.2). The numbers are the store's bytes.
enum class Platform : std::uint8_t { apns = 0, fcm = 1, webpush = 2 };

std::string_view to_string(Platform platform) noexcept;
// "apns" / "fcm" / "webpush"; nullopt for anything else.
std::optional<Platform> parse_platform(std::string_view text) noexcept;

std::string_view to_string(Environment env) noexcept;
// "production" / "sandbox"; nullopt for anything else.
std::optional<Environment> parse_environment(std::string_view text) noexcept;

struct Device {
    std::string token;        // apns: lowercase hex; fcm: as the app got it (case-sensitive)
    std::string group;
    std::string bundle_id;
    Environment environment = Environment::production;
    std::string app_version;  // empty: none was given
    // Milliseconds since the Unix epoch: the API shows whole seconds, the 410 prune rule
    // compares against APNs' millisecond timestamp.
    std::int64_t registered_at_ms = 0;
    std::int64_t last_seen_ms = 0;
    // Last, so brace-initialised APNs devices stay apns; the JSON puts it after group.
    Platform platform = Platform::apns;

    bool operator==(const Device&) const = default;
};

// The device object of docs/api.md, compact, fields in the contract's order:
// {"token":…,"group":…,"platform":…,"bundle_id":…,"environment":…,"app_version":…,"registered_at":…,
// "last_seen":…}
std::string device_to_json(const Device& device);
// The inverse, for import (a line without "platform", as 1.1 exported it, is an apns device);
// throws std::invalid_argument naming the problem.
Device device_from_json(std::string_view json_line);

// RFC 3339 UTC, whole seconds: 2026-11-26T09:00:00Z
std::string format_rfc3339(std::int64_t unix_ms);
// nullopt when the text is not exactly that form.
std::optional<std::int64_t> parse_rfc3339(std::string_view text) noexcept;

std::int64_t now_unix_ms() noexcept;

}  // namespace pushsync
