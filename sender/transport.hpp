#pragma once
// What the dispatcher needs from a connection configuration's client. The daemon wraps
// ApnsClient (transport_apns.cpp); unit tests use a fake that answers when the test says so.
#include <cstddef>
#include <cstdint>
#include <functional>

#include "sender/apns_client.hpp"

namespace pushsync::sender {

class PushTransport {
public:
    using Callback = std::function<void(const PushResponse&)>;
    virtual ~PushTransport() = default;

    // Exactly one response later through the callback given at construction, never re-entrantly
    // from inside send().
    virtual void send(PushRequest request) = 0;
    virtual std::size_t in_flight() const noexcept = 0;
    virtual void shutdown(std::uint32_t deadline_ms) = 0;
    // A reload replaced this transport: what APNs has not seen comes back at once as status 0
    // reason "NotSent" (to go on the replacement); the wire is answered, then the connections
    // close gracefully. drained(): nothing left, it may be destroyed. (The defaults suit a
    // transport without connections of its own.)
    virtual void drain() {}
    virtual bool drained() const noexcept { return in_flight() == 0; }
    virtual bool credentials_rejected() const noexcept = 0;
};

// Builds the transport for one connection configuration (throws std::runtime_error on bad
// credentials).
using TransportFactory =
    std::function<std::unique_ptr<PushTransport>(const ConnectionConfig& config, PushTransport::Callback on_response)>;

}  // namespace pushsync::sender
