// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What the admin page was asked for: the path under the location and its query, checked. Pure,
// so every bad input is unit-tested; the handler turns a problem into a 400/404 page.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace pushsync::admin {

inline constexpr std::size_t page_size = 50;

struct OverviewRequest {};
struct StylesheetRequest {};
struct GroupSearchRequest {
    std::string prefix;  // "" = every group
    std::string after;   // the last group id of the previous page
};
struct GroupRequest {
    std::string group;
    std::string after;  // the last token of the previous page
};
struct DeviceSearchRequest {
    std::string token_prefix;  // lowercase hex; "" = the empty form
    std::string after;
};

struct EventsRequest {
    std::uint64_t before = 0;  // the seq of the previous page's oldest event; 0 = the newest
};

using AdminRequest = std::variant<OverviewRequest, StylesheetRequest, GroupSearchRequest, GroupRequest,
                                  DeviceSearchRequest, EventsRequest>;

struct AdminProblem {
    int status = 400;     // 400 or 404
    std::string message;  // may quote the request's bytes: render it escaped
};

// `path`: the URI after the location's prefix ("", "groups", "style.css"); `query`: r->args.
std::variant<AdminRequest, AdminProblem> parse_admin_request(std::string_view path, std::string_view query);

}  // namespace pushsync::admin
