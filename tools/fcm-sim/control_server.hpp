// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// fcm-sim's control API routes (mark tokens, script faults, expire access tokens, read the log
// and counters), served over tools/sim-common's plain HTTP/1.1 JSON transport.
#include <ev.h>

#include <string>

#include "simulator.hpp"
#include "tools/sim-common/control/http_control.hpp"

namespace fcm_sim {

class FcmServer;

class ControlServer {
public:
    ControlServer(struct ev_loop* loop, Simulator& sim, FcmServer& fcm, sim::UniqueFd listener);
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // The routing, separate from the socket handling.
    sim::ControlResponse handle(const std::string& method, const std::string& target, const std::string& body);

private:
    Simulator& sim_;
    FcmServer& fcm_;
    sim::ControlHttpServer http_;
};

}  // namespace fcm_sim
