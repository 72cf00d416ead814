#pragma once
// The production PushTransport: ApnsClient on the daemon's libev loop.
#include "sender/transport.hpp"

struct ev_loop;

namespace pushsync::sender {

TransportFactory apns_transport_factory(struct ev_loop* loop);

}  // namespace pushsync::sender
