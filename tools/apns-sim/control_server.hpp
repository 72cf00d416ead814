// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// apns-sim's control API routes (mark tokens, script faults, read the log and counters), served
// over tools/sim-common's plain HTTP/1.1 JSON transport.
#include <ev.h>

#include <string>

#include "simulator.hpp"
#include "tools/sim-common/control/http_control.hpp"

namespace apns_sim {

class ApnsServer;

using sim::ControlResponse;

class ControlServer {
public:
    ControlServer(struct ev_loop* loop, Simulator& sim, ApnsServer& apns, UniqueFd listener);
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // The routing, separate from the socket handling.
    ControlResponse handle(const std::string& method, const std::string& target, const std::string& body);

private:
    Simulator& sim_;
    ApnsServer& apns_;
    sim::ControlHttpServer http_;
};

}  // namespace apns_sim
