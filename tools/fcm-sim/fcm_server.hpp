// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The FCM listener: tools/sim-common's HTTP/2 listener making fcm-sim connections, with the
// request log flushed before the loop waits.
#include <ev.h>

#include "simulator.hpp"
#include "tools/sim-common/h2/server.hpp"

namespace fcm_sim {

class FcmServer : public sim::H2Server {
public:
    FcmServer(struct ev_loop* loop, Simulator& sim, sim::SslCtxPtr tls, sim::UniqueFd listener);
};

}  // namespace fcm_sim
