// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Request bodies of docs/api.md: media type, size and the JSON of register and notify.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "ngx_module/api/error.hpp"
#include "shared/device.hpp"

namespace pushsync::api {

// 415 unsupported_media_type unless the Content-Type is application/json (parameters allowed,
// case-insensitive). An absent Content-Type is accepted: nothing contradicts JSON.
std::optional<ApiError> check_content_type(std::optional<std::string_view> content_type);
// 413 body_too_large above max_body_bytes.
std::optional<ApiError> check_body_size(std::size_t bytes);

struct RegistrationBody {
    std::string bundle_id;  // checked against pushsync.yaml by the caller (422 unknown_bundle)
    Platform platform = Platform::apns;
    Environment environment = Environment::production;
    std::string app_version;  // empty: none
};

struct NotifyBody {
    std::string tail;
    std::string origin;  // the store's key for it (device_key); empty: none
};

// 400 invalid_json / invalid_field (platform neither apns nor fcm, webpush included: not built) /
// invalid_environment (sandbox for an fcm device).
std::variant<RegistrationBody, ApiError> parse_registration_body(std::string_view body);
// 400 invalid_json / invalid_field / invalid_tail / invalid_token.
std::variant<NotifyBody, ApiError> parse_notify_body(std::string_view body);

}  // namespace pushsync::api
