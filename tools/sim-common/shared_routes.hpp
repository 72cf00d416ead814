// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The control API routes every simulator answers alike: GET /log, GET /counters,
// GET /connections, GET|POST /clock, and POST /goaway with explicit debug data.
#include <optional>
#include <string>

#include "tools/sim-common/control/http_control.hpp"
#include "tools/sim-common/h2/server.hpp"
#include "tools/sim-common/log/counters.hpp"
#include "tools/sim-common/log/jsonl_log.hpp"
#include "tools/sim-common/sim_clock.hpp"

namespace sim {

struct SharedState {
    SimClock& clock;
    JsonlLog& log;
    Counters& counters;
    H2Server& server;
};

// The answer when path is one of these routes; nullopt otherwise (the simulator's own routes).
// Throws std::invalid_argument on a bad body, which the transport answers 400.
std::optional<ControlResponse> shared_route(SharedState state, const std::string& method, const std::string& path,
                                            const std::string& query, const std::string& body);

}  // namespace sim
