// SPDX-License-Identifier: BSD-2-Clause
#include "tools/sim-common/log/counters.hpp"

namespace sim {

void Counters::count_response(int status, const std::string& reason) {
    ++statuses_[status];
    if (reason.empty()) return;
    auto it = reasons_.find(reason);
    if (it != reasons_.end()) ++it->second;
    else reasons_.emplace(reason, 1);
}

nlohmann::json Counters::to_json() const {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : values_) j[k] = v;
    nlohmann::json s = nlohmann::json::object();
    for (const auto& [k, v] : statuses_) s[std::to_string(k)] = v;
    nlohmann::json r = nlohmann::json::object();
    for (const auto& [k, v] : reasons_) r[k] = v;
    j["status"] = s;
    j["reason"] = r;
    return j;
}

void Counters::clear() {
    // connections_open describes the present, not the past: keep it across a reset.
    auto open = slot("connections_open");
    values_.clear();
    slot("connections_open") = open;
    statuses_.clear();
    reasons_.clear();
}

}  // namespace sim
