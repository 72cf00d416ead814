// SPDX-License-Identifier: BSD-2-Clause
#include "control_server.hpp"

#include "fcm_server.hpp"
#include "tools/sim-common/marks_and_faults.hpp"
#include "tools/sim-common/shared_routes.hpp"

namespace fcm_sim {

using sim::control_error;
using sim::control_ok;

ControlServer::ControlServer(struct ev_loop* loop, Simulator& sim, FcmServer& fcm, sim::UniqueFd listener)
    : sim_(sim), fcm_(fcm),
      http_(loop, std::move(listener), [this](const std::string& method, const std::string& target, const std::string& body) {
          return handle(method, target, body);
      }) {}

sim::ControlResponse ControlServer::handle(const std::string& method, const std::string& target, const std::string& body) {
    const auto qmark = target.find('?');
    const std::string path = target.substr(0, qmark);
    const std::string query = qmark == std::string::npos ? "" : target.substr(qmark + 1);
    if (auto shared = sim::shared_route({sim_.clock, sim_.log, sim_.counters, fcm_}, method, path, query, body)) {
        return *shared;
    }

    if (path == "/health" && method == "GET") {
        auto projects = nlohmann::json::array();
        for (const auto& a : sim_.accounts.all()) projects.push_back(a.project_id);
        return control_ok({{"ok", true}, {"now_ms", sim_.clock.now_ms()}, {"connections", fcm_.open_connections()},
                           {"projects", projects}});
    }
    if (auto routed = sim::marks_and_faults_route(sim_.marks, sim_.faults, sim_.clock.now_ms(), method, path, body)) {
        return *routed;
    }
    if (path == "/access_tokens" && method == "GET") return control_ok(sim_.tokens.to_json());
    if (path == "/access_tokens/expire" && method == "POST") {
        sim_.tokens.expire_all(sim_.clock.now_ms());
        return control_ok({{"ok", true}});
    }
    if (path == "/reset" && method == "POST") {
        sim_.marks.clear();
        sim_.faults.clear();
        sim_.tokens.clear();
        sim_.log.clear();
        sim_.counters.clear();
        sim_.clock.set_offset_s(0);
        return control_ok({{"ok", true}});
    }
    return control_error(404, "no such endpoint: " + method + " " + path + " (see fcm-sim --help)");
}

}  // namespace fcm_sim
