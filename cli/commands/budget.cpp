// SPDX-License-Identifier: BSD-2-Clause
#include "cli/commands/budget.hpp"

#include <algorithm>
#include <string>

namespace pushsync::cli {

Json budget_json(const Store& store, std::string_view token, std::uint32_t interval_s, std::int64_t now_ms) {
    const std::optional<DeviceBudget> budget = store.device_budget(token);
    if (interval_s == 0 && !(budget && budget->held_until_ms != 0)) return nullptr;
    Json out = Json::object();
    out["interval_s"] = interval_s;
    out["last_push_started"] = budget && budget->last_push_ms != 0 ? Json(format_rfc3339(budget->last_push_ms)) : Json(nullptr);
    std::int64_t next_ms = 0;
    if (budget && budget->last_push_ms != 0 && interval_s != 0) {
        next_ms = budget->last_push_ms + static_cast<std::int64_t>(interval_s) * 1000;
    }
    Json waiting = nullptr;
    if (budget && budget->held_until_ms != 0) {
        next_ms = std::max(next_ms, budget->held_until_ms);
        if (const auto held = store.held_push(budget->held_until_ms, token)) {
            waiting = {{"due", format_rfc3339(held->due_ms)}, {"group", held->group}, {"tail", held->tail}};
        }
    }
    out["next_push_from"] = next_ms > now_ms ? format_rfc3339(next_ms) : std::string("now");
    out["waiting"] = waiting;
    return out;
}

void add_budget_rows(Table& table, const Json& budget) {
    // The last push itself is the delivery statistics' row.
    table.add({"next_push_from", budget["next_push_from"].get<std::string>()});
    const Json& waiting = budget["waiting"];
    table.add({"waiting_push", waiting.is_null() ? "-"
                                                 : "tail " + waiting["tail"].get<std::string>() + " due " +
                                                       waiting["due"].get<std::string>()});
}

}  // namespace pushsync::cli
