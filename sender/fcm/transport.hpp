// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The production PushTransport for FCM: FcmClient on the daemon's libev loop, logging through
// the sender's Logger with the prefix "fcm".
#include "sender/logger.hpp"
#include "sender/transport.hpp"

struct ev_loop;

namespace pushsync::sender {

TransportFactory fcm_transport_factory(struct ev_loop* loop, Logger& log);

}  // namespace pushsync::sender
