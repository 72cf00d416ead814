// SPDX-License-Identifier: BSD-2-Clause
#include "control_server.hpp"

#include <stdexcept>

#include "apns_server.hpp"
#include "tools/sim-common/shared_routes.hpp"

namespace apns_sim {

namespace {

using sim::control_error;
using sim::control_ok;
using sim::parse_json_body;

}  // namespace

ControlServer::ControlServer(struct ev_loop* loop, Simulator& sim, ApnsServer& apns, UniqueFd listener)
    : sim_(sim), apns_(apns),
      http_(loop, std::move(listener), [this](const std::string& method, const std::string& target, const std::string& body) {
          return handle(method, target, body);
      }) {}

ControlResponse ControlServer::handle(const std::string& method, const std::string& target, const std::string& body) {
    auto qmark = target.find('?');
    std::string path = target.substr(0, qmark);
    std::string query = qmark == std::string::npos ? "" : target.substr(qmark + 1);
    if (auto shared = sim::shared_route({sim_.clock, sim_.log, sim_.counters, apns_}, method, path, query, body)) {
        return *shared;
    }

    if (path == "/health" && method == "GET") {
        return control_ok({{"ok", true},
                   {"environment", to_string(sim_.opt.environment)},
                   {"now_ms", sim_.clock.now_ms()},
                   {"connections", apns_.open_connections()}});
    }
    if (path.rfind("/tokens/", 0) == 0) {
        std::string token = path.substr(8);
        if (token.empty()) return control_error(400, "missing token");
        if (method == "POST" || method == "PUT") {
            sim_.registry.mark(token, parse_json_body(body), sim_.clock.now_ms());
            return control_ok({{"ok", true}});
        }
        if (method == "DELETE") return control_ok({{"removed", sim_.registry.forget(token)}});
        return control_error(405, "use POST or DELETE");
    }
    if (path == "/tokens" && method == "GET") return control_ok(sim_.registry.to_json());
    if (path == "/tokens" && method == "POST") {
        // many at once: {"<token>": {"state": ...}, ...}
        auto j = parse_json_body(body);
        if (!j.is_object()) throw std::invalid_argument("body must map tokens to marks");
        for (const auto& [token, mark] : j.items()) sim_.registry.mark(token, mark, sim_.clock.now_ms());
        return control_ok({{"marked", j.size()}});
    }
    if (path == "/faults") {
        if (method == "POST") return control_ok({{"id", sim_.faults.add(parse_json_body(body))}});
        if (method == "GET") return control_ok(sim_.faults.to_json());
        if (method == "DELETE") {
            sim_.faults.clear();
            return control_ok({{"ok", true}});
        }
        return control_error(405, "use GET, POST or DELETE");
    }
    if (path == "/reset" && method == "POST") {
        sim_.registry.clear();
        sim_.faults.clear();
        sim_.log.clear();
        sim_.counters.clear();
        sim_.token_rate.clear();
        sim_.clock.set_offset_s(0);
        return control_ok({{"ok", true}});
    }
    return control_error(404, "no such endpoint: " + method + " " + path + " (see apns-sim --help)");
}

}  // namespace apns_sim
