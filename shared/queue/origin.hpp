// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// How a notify's origin travels through the queue. A slot holds kMaxOrigin (200) bytes, the
// longest APNs token; an FCM token may be up to 1024 characters (docs/api.md 1.2). A longer
// origin is carried as "~" and the base64url SHA-256 of the token (44 bytes): '~' is in no
// platform's token alphabet, so the form never equals a token, and the sender compares each
// device's queued_origin() with it. The module checks membership with the whole token first.
#include <string>
#include <string_view>

namespace pushsync {

// The token itself when it fits a slot, else its hashed form. Throws std::runtime_error if
// OpenSSL cannot hash.
std::string queued_origin(std::string_view token);
// What a slot's origin may hold: a device token that fits, or a hashed form.
bool is_valid_queued_origin(std::string_view origin) noexcept;
// Whether the device of `token` is the round's origin (`origin` as queued_origin gave it).
// Throws as queued_origin.
bool is_origin(std::string_view origin, std::string_view token);

}  // namespace pushsync
