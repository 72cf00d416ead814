// SPDX-License-Identifier: BSD-2-Clause
#include "tools/sim-common/shared_routes.hpp"

#include <charconv>
#include <stdexcept>

namespace sim {

std::optional<ControlResponse> shared_route(SharedState state, const std::string& method, const std::string& path,
                                            const std::string& query, const std::string& body) {
    if (path == "/goaway" && method == "POST") {
        auto j = parse_json_body(body);
        std::string debug = j.value("debug", std::string());
        // apns-sim's scripts name APNs' reason rather than spell its JSON
        if (debug.empty() && j.contains("reason")) debug = nlohmann::json{{"reason", j.value("reason", std::string())}}.dump();
        state.server.goaway_all(j.value("last_stream_id", -1), j.value("error_code", 0u), debug);
        return control_ok({{"ok", true}});
    }
    if (path == "/log" && method == "GET") {
        std::uint64_t since = 0;
        auto s = query_param(query, "since");
        std::from_chars(s.data(), s.data() + s.size(), since);
        return ControlResponse{200, state.log.since(since)};
    }
    if (path == "/counters" && method == "GET") {
        auto j = state.counters.to_json();
        j["log_seq"] = state.log.last_seq();
        return control_ok(j);
    }
    if (path == "/connections" && method == "GET") return control_ok(state.server.connections_json());
    if (path == "/clock") {
        if (method == "POST") {
            auto j = parse_json_body(body);
            if (!j.contains("offset_s") || !j["offset_s"].is_number_integer()) throw std::invalid_argument("offset_s must be an integer");
            state.clock.set_offset_s(j["offset_s"].get<std::int64_t>());
        } else if (method != "GET") {
            return control_error(405, "use GET or POST");
        }
        return control_ok({{"offset_s", state.clock.offset_s()}, {"now_s", state.clock.now_s()}, {"now_ms", state.clock.now_ms()}});
    }
    return std::nullopt;
}

}  // namespace sim
