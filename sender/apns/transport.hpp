// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The production PushTransport: ApnsClient on the daemon's libev loop, logging through the
// sender's Logger, with one JWT cache per (team, key) shared by every client that signs with it
// (e.g. the production and sandbox connections of one app).
#include "sender/logger.hpp"
#include "sender/transport.hpp"

struct ev_loop;

namespace pushsync::sender {

TransportFactory apns_transport_factory(struct ev_loop* loop, Logger& log);

}  // namespace pushsync::sender
