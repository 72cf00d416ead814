// SPDX-License-Identifier: BSD-2-Clause
#include "control_server.hpp"

#include "apns_server.hpp"
#include "tools/sim-common/marks_and_faults.hpp"
#include "tools/sim-common/shared_routes.hpp"

namespace apns_sim {

namespace {

using sim::control_error;
using sim::control_ok;

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
    if (auto routed = sim::marks_and_faults_route(sim_.registry, sim_.faults, sim_.clock.now_ms(), method, path, body)) {
        return *routed;
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
