// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The APNs listener: tools/sim-common's HTTP/2 listener making APNs connections, with apns-sim's
// connection settings (stream limit text, idle GOAWAY reason) and its request log flushed.
#include <ev.h>

#include "common.hpp"
#include "simulator.hpp"
#include "tools/sim-common/h2/server.hpp"

namespace apns_sim {

class ApnsServer : public sim::H2Server {
public:
    ApnsServer(struct ev_loop* loop, Simulator& sim, SslCtxPtr tls, UniqueFd listener);
};

}  // namespace apns_sim
