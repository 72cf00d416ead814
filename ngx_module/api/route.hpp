// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Maps (method, path under the pushsync_api location) to an endpoint of docs/api.md, with the
// group and token checked and the token in its stored (lowercase) form.
#include <string>
#include <string_view>
#include <variant>

#include "ngx_module/api/error.hpp"

namespace pushsync::api {

enum class Endpoint { register_device, unregister_device, list_group, notify };

struct Route {
    Endpoint endpoint = Endpoint::list_group;
    std::string group;
    // register/unregister only: the store's key for it (device_key: an APNs token lowercased, any
    // other as given); the registration's platform decides in the end (apns lowercases, fcm keeps).
    std::string token;
    std::string token_as_given;
};

// `path` is what follows the location prefix ("groups/g1/devices"); a leading '/' is ignored.
// Errors: 404 not_found (unknown path), 405 method_not_allowed (with allow), 400 invalid_group,
// 400 invalid_token (a token of no platform: neither APNs hex nor FCM's alphabet and length).
std::variant<Route, ApiError> route(std::string_view method, std::string_view path);

// The group named by a path under the prefix, or "" when there is no valid one ($pushsync_group).
std::string_view group_of_path(std::string_view path) noexcept;

}  // namespace pushsync::api
