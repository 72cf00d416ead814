// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The one FCM HTTP v1 request pushsync sends (docs/api.md, "What reaches FCM (1.2)"): a
// data-only message carrying the tail, so the app's onMessageReceived runs and nothing is shown.
#include <cstdint>
#include <string>
#include <string_view>

#include "shared/config/config.hpp"

namespace pushsync::sender::fcm {

// FCM refuses a ttl above four weeks (INVALID_ARGUMENT): a longer expiration is sent as four weeks.
inline constexpr std::int64_t max_ttl_s = 28 * 24 * 60 * 60;

// /v1/projects/{project_id}/messages:send. project_id as the service-account parser allows it.
std::string send_path(std::string_view project_id);

// {"message":{"token":"{token}","data":{"tail":"{tail}"},"android":{"priority":"high",
// "ttl":"{ttl_s}s","collapse_key":"pushsync"}}}, byte for byte, no spaces. token and tail are
// JSON strings whatever they hold (validation lets through neither a quote nor a control byte,
// but a slip would still only be a value); a byte that is not UTF-8 becomes U+FFFD. ttl_s is
// clamped to [0, max_ttl_s].
std::string message_body(std::string_view token, std::string_view tail, AndroidPriority priority, std::int64_t ttl_s);

}  // namespace pushsync::sender::fcm
