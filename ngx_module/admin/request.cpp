// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/admin/request.hpp"

#include <charconv>
#include <map>
#include <optional>

#include "ngx_module/admin/html.hpp"
#include "shared/validation.hpp"

namespace pushsync::admin {
namespace {

using Params = std::map<std::string, std::string, std::less<>>;

bool is_hex(std::string_view text) noexcept {
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
    }
    return true;
}

bool is_group_prefix(std::string_view text) noexcept {
    return text.empty() || is_valid_group(text);
}

std::variant<Params, AdminProblem> parse_query(std::string_view query) {
    Params params;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        const std::size_t eq = pair.find('=');
        const auto name = url_decode(pair.substr(0, eq));
        const auto value = url_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!name || !value) return AdminProblem{400, "the query has a broken %-escape"};
        if (!params.emplace(*name, *value).second) return AdminProblem{400, "parameter '" + *name + "' is given twice"};
    }
    return params;
}

// Every parameter must be one the page knows.
std::optional<AdminProblem> only(const Params& params, std::initializer_list<std::string_view> known) {
    for (const auto& [name, value] : params) {
        bool found = false;
        for (auto k : known) found = found || k == name;
        if (!found) return AdminProblem{400, "unknown parameter '" + name + "'"};
    }
    return std::nullopt;
}

std::string get(const Params& params, std::string_view name) {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
}

std::variant<AdminRequest, AdminProblem> group_search(const Params& params) {
    if (auto problem = only(params, {"prefix", "after"})) return *problem;
    GroupSearchRequest request{get(params, "prefix"), get(params, "after")};
    if (!is_group_prefix(request.prefix)) {
        return AdminProblem{400, "a group id prefix is 1-128 of A-Z a-z 0-9 . _ ~ -"};
    }
    if (!is_group_prefix(request.after)) return AdminProblem{400, "'after' is not a group id"};
    return request;
}

std::variant<AdminRequest, AdminProblem> group(const Params& params) {
    if (auto problem = only(params, {"id", "after"})) return *problem;
    GroupRequest request{get(params, "id"), get(params, "after")};
    if (!is_valid_group(request.group)) return AdminProblem{400, "'id' must be a group id (1-128 of A-Z a-z 0-9 . _ ~ -)"};
    if (!request.after.empty() && !is_valid_device_token(request.after)) return AdminProblem{400, "'after' is not a device token"};
    request.after = device_key(request.after);
    return request;
}

std::variant<AdminRequest, AdminProblem> device_search(const Params& params) {
    if (auto problem = only(params, {"token", "after"})) return *problem;
    DeviceSearchRequest request{get(params, "token"), get(params, "after")};
    // An APNs token (hex) is looked up lowercased; an FCM one (its own alphabet) as given.
    if (!is_token_prefix(request.token_prefix)) {
        return AdminProblem{400, "a token or token prefix is up to 1024 of A-Z a-z 0-9 _ - : (hex for apns)"};
    }
    if (!request.after.empty() && !is_valid_device_token(request.after)) return AdminProblem{400, "'after' is not a device token"};
    if (request.token_prefix.size() <= max_token_length && is_hex(request.token_prefix)) {
        request.token_prefix = normalize_token(request.token_prefix);
    }
    request.after = device_key(request.after);
    return request;
}

std::variant<AdminRequest, AdminProblem> events(const Params& params) {
    if (auto problem = only(params, {"before"})) return *problem;
    const std::string before = get(params, "before");
    EventsRequest request;
    if (before.empty()) return request;
    const auto [end, ec] = std::from_chars(before.data(), before.data() + before.size(), request.before);
    if (ec != std::errc{} || end != before.data() + before.size() || request.before == 0) {
        return AdminProblem{400, "'before' is an event number"};
    }
    return request;
}

}  // namespace

std::variant<AdminRequest, AdminProblem> parse_admin_request(std::string_view path, std::string_view query) {
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    auto parsed = parse_query(query);
    if (auto* problem = std::get_if<AdminProblem>(&parsed)) return *problem;
    const Params& params = std::get<Params>(parsed);
    if (path.empty()) {
        if (auto problem = only(params, {})) return *problem;
        return OverviewRequest{};
    }
    if (path == "style.css") return StylesheetRequest{};
    if (path == "groups") return group_search(params);
    if (path == "group") return group(params);
    if (path == "devices") return device_search(params);
    if (path == "events") return events(params);
    return AdminProblem{404, "there is no such admin page"};
}

}  // namespace pushsync::admin
