// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The group listing of docs/api.md: its query (`limit`, `cursor`) and its page body.
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ngx_module/api/error.hpp"
#include "shared/device.hpp"

namespace pushsync::api {

inline constexpr std::size_t max_list_limit = 1000;

struct ListQuery {
    std::size_t limit = max_list_limit;
    std::string cursor;  // as sent; empty: from the first device
};

// `args` is the query string without '?'. Other parameters are ignored. 400 invalid_field for a
// limit outside 1-1000 or not a plain number, and for a limit or cursor given twice or empty.
std::variant<ListQuery, ApiError> parse_list_query(std::string_view args);

// {"group": …, "devices": [entry, …], "next": …}: entries are device objects with `token_prefix`
// (the first 8 hex digits) instead of `token` unless full_tokens; "next" only when non-empty.
std::string group_page_body(std::string_view group, const std::vector<Device>& devices, bool full_tokens,
                            std::string_view next);

}  // namespace pushsync::api
