// SPDX-License-Identifier: BSD-2-Clause
// Routing of docs/api.md: shape of the path first (404), then the method (405), then the
// identifiers (400), so a client learns the most useful thing first.
#include "ngx_module/api/route.hpp"

#include <array>

#include "shared/validation.hpp"

namespace pushsync::api {
namespace {

// Splits "groups/g/devices/t" into at most 5 segments; more means "unknown path".
struct Segments {
    std::array<std::string_view, 5> part{};
    std::size_t count = 0;
};

Segments split(std::string_view path) noexcept {
    Segments s;
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    while (s.count < s.part.size()) {
        const auto slash = path.find('/');
        s.part[s.count++] = path.substr(0, slash);
        if (slash == std::string_view::npos) return s;
        path.remove_prefix(slash + 1);
    }
    s.count = s.part.size() + 1;  // too many
    return s;
}

}  // namespace

std::variant<Route, ApiError> route(std::string_view method, std::string_view path) {
    const Segments s = split(path);
    if (s.count < 3 || s.count > 4 || s.part[0] != "groups") return make_error(ErrorCode::not_found);

    Route r;
    std::string_view allow;
    if (s.count == 4 && s.part[2] == "devices") {
        allow = "PUT, DELETE";
        if (method == "PUT") r.endpoint = Endpoint::register_device;
        else if (method == "DELETE") r.endpoint = Endpoint::unregister_device;
        else return method_not_allowed(allow);
    } else if (s.count == 3 && s.part[2] == "devices") {
        if (method != "GET") return method_not_allowed("GET");
        r.endpoint = Endpoint::list_group;
    } else if (s.count == 3 && s.part[2] == "notify") {
        if (method != "POST") return method_not_allowed("POST");
        r.endpoint = Endpoint::notify;
    } else {
        return make_error(ErrorCode::not_found);
    }

    if (!is_valid_group(s.part[1])) {
        return make_error(ErrorCode::invalid_group);
    }
    r.group = s.part[1];
    if (s.count == 4) {
        if (!is_valid_device_token(s.part[3])) {
            return make_error(ErrorCode::invalid_token);
        }
        r.token = device_key(s.part[3]);
        r.token_as_given = s.part[3];
    }
    return r;
}

std::string_view group_of_path(std::string_view path) noexcept {
    const Segments s = split(path);
    if (s.count < 3 || s.count > 4 || s.part[0] != "groups") return {};
    if (s.part[2] != "devices" && s.part[2] != "notify") return {};
    return is_valid_group(s.part[1]) ? s.part[1] : std::string_view{};
}

}  // namespace pushsync::api
