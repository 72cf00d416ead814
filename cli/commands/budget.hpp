// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// `pushsyncctl device`'s view of a device's push budget (delivery.device_min_interval_s): its last
// push, when the next one may go, and the push waiting for it.
#include <cstdint>
#include <string_view>

#include "cli/format.hpp"
#include "cli/table.hpp"
#include "shared/store/store.hpp"

namespace pushsync::cli {

// {"interval_s", "last_push" (RFC 3339 or null), "next_push_from" (RFC 3339; "now" when a push
// would go at once), "waiting" ({"due", "tail", "group"} or null)}.
Json budget_json(const Store& store, std::string_view token, std::uint32_t interval_s, std::int64_t now_ms);
void add_budget_rows(Table& table, const Json& budget);

}  // namespace pushsync::cli
