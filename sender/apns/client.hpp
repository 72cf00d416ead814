// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The HTTP/2 client to APNs: one ApnsClient per connection configuration (credentials +
// environment endpoint), owning `apns.connections` TLS connections, all driven by one libev loop.
// It multiplexes up to the server's MAX_CONCURRENT_STREAMS per connection (following changes),
// queues the rest, refreshes the shared JWT, PINGs idle connections, times requests out with
// RST_STREAM, resends what GOAWAY/REFUSED_STREAM left unprocessed on a new connection, and
// reconnects with backoff (1 s doubling to 60 s, reset by a success).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sender/net/transport_log.hpp"
#include "sender/transport.hpp"
#include "shared/config/config.hpp"
#include "shared/device.hpp"

struct ev_loop;

namespace pushsync::sender {

// Counters for tests, logs and metrics.
struct ApnsClientStats {
    std::uint64_t connects = 0;          // connections that got the server's SETTINGS
    std::uint64_t connect_failures = 0;  // attempts that ended before serving a response
    std::uint64_t goaways = 0;
    std::uint64_t resent = 0;    // unprocessed streams (GOAWAY, REFUSED_STREAM) sent again
    std::uint64_t timeouts = 0;
    std::uint64_t responses = 0;
    std::size_t max_open_streams = 0;  // most streams open at once on one connection
};

class ApnsClient {
public:
    using Callback = std::function<void(const PushResponse&)>;

    // Reads the credentials (throws std::runtime_error naming the file on failure).
    ApnsClient(struct ev_loop* loop, ConnectionConfig config, Callback on_response);
    ~ApnsClient();
    ApnsClient(const ApnsClient&) = delete;
    ApnsClient& operator=(const ApnsClient&) = delete;

    // Queues a push; exactly one response comes back through the callback for each, later.
    // Never from inside send(); the callback may call send() again. Status 0
    // reasons: "Timeout" (request_timeout_ms counted from send(), queueing included; the stream
    // is RST_STREAM CANCELled), "ConnectionLost" (sent, connection closed before an answer:
    // possibly delivered), "StreamReset" (the server reset it), "Shutdown". Streams APNs never
    // processed (above GOAWAY's last-stream-id, REFUSED_STREAM, not yet written) are resent
    // without a callback; a 403 ExpiredProviderToken is resent once with a new JWT. Destroying
    // the client drops what is in flight without callbacks: call shutdown() first.
    void send(PushRequest request);
    std::size_t in_flight() const noexcept;  // queued + on the wire
    // Stop opening streams; answer everything queued with status 0 reason "Shutdown" once the
    // streams on the wire finish or `deadline_ms` passes.
    void shutdown(std::uint32_t deadline_ms);
    // A reload replaced this client: stop opening streams and never reconnect; pushes APNs has
    // not seen (queued, refused, above a GOAWAY) are answered at once with status 0 reason
    // "NotSent", so the caller sends them elsewhere; those on the wire get their answers (or
    // time out), then each connection closes with GOAWAY.
    void drain();
    // Nothing in flight and every connection closed: the client may be destroyed.
    bool drained() const noexcept;
    // Credential errors (403) hold an app's pushes: the pipeline asks before sending.
    bool credentials_rejected() const noexcept;
    ApnsClientStats stats() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pushsync::sender
