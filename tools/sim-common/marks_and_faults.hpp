// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The control routes for a simulator's token marks and fault rules, alike in both simulators but
// over their own types: Marks has mark(token, json, now_ms), forget(token), to_json(); Faults has
// add(json), to_json(), clear(). POST|DELETE /tokens/{token}, GET|POST /tokens, GET|POST|DELETE
// /faults.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "tools/sim-common/control/http_control.hpp"

namespace sim {

template <typename Marks, typename Faults>
std::optional<ControlResponse> marks_and_faults_route(Marks& marks, Faults& faults, std::int64_t now_ms,
                                                      const std::string& method, const std::string& path,
                                                      const std::string& body) {
    if (path.rfind("/tokens/", 0) == 0) {
        const std::string token = path.substr(8);
        if (token.empty()) return control_error(400, "missing token");
        if (method == "POST" || method == "PUT") {
            marks.mark(token, parse_json_body(body), now_ms);
            return control_ok({{"ok", true}});
        }
        if (method == "DELETE") return control_ok({{"removed", marks.forget(token)}});
        return control_error(405, "use POST or DELETE");
    }
    if (path == "/tokens" && method == "GET") return control_ok(marks.to_json());
    if (path == "/tokens" && method == "POST") {
        // many at once: {"<token>": {"state": ...}, ...}
        auto j = parse_json_body(body);
        if (!j.is_object()) throw std::invalid_argument("body must map tokens to marks");
        for (const auto& [token, mark] : j.items()) marks.mark(token, mark, now_ms);
        return control_ok({{"marked", j.size()}});
    }
    if (path == "/faults") {
        if (method == "POST") return control_ok({{"id", faults.add(parse_json_body(body))}});
        if (method == "GET") return control_ok(faults.to_json());
        if (method == "DELETE") {
            faults.clear();
            return control_ok({{"ok", true}});
        }
        return control_error(405, "use GET, POST or DELETE");
    }
    return std::nullopt;
}

}  // namespace sim
