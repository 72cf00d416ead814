// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The HTTP/2 client to FCM HTTP v1 (docs/fcm.md): one FcmClient per connection configuration
// (one service account and endpoint), owning `fcm.connections` TLS connections to FCM and one to
// the OAuth token endpoint, all driven by one libev loop. It keeps the account's access token
// (AccessTokenCache: fetched before it is needed, refreshed before it ends, dropped on a 401),
// holds pushes while no token is at hand, multiplexes up to min(max_streams, the server's
// MAX_CONCURRENT_STREAMS) per connection, sorts FCM's answers by its error table, times requests
// out with RST_STREAM, resends what GOAWAY/REFUSED_STREAM left unprocessed, and reconnects with
// backoff as the APNs client does (sender/apns/client.hpp).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sender/transport.hpp"

struct ev_loop;

namespace pushsync::sender {

// Counters for tests, logs and metrics.
struct FcmClientStats {
    std::uint64_t connects = 0;          // FCM connections that got the server's SETTINGS
    std::uint64_t connect_failures = 0;  // FCM connection attempts that ended before serving a response
    std::uint64_t goaways = 0;
    std::uint64_t resent = 0;  // unprocessed streams (GOAWAY, REFUSED_STREAM) and 401s sent again
    std::uint64_t timeouts = 0;
    std::uint64_t responses = 0;
    std::size_t max_open_streams = 0;  // most streams open at once on one FCM connection
    std::uint64_t token_fetches = 0;          // access-token requests started
    std::uint64_t token_fetch_failures = 0;   // of those, the ones that brought no token
    std::uint64_t unauthorized = 0;           // FCM's 401 answers
};

class FcmClient {
public:
    using Callback = std::function<void(const PushResponse&)>;

    // Reads the service account `config.auth.file` (throws ServiceAccountError, a
    // std::runtime_error naming the file, when it cannot be used) and `config.token_uri` (or the
    // account's token_uri; std::runtime_error when it is not https://host[:port][/path]).
    FcmClient(struct ev_loop* loop, ConnectionConfig config, Callback on_response);
    ~FcmClient();
    FcmClient(const FcmClient&) = delete;
    FcmClient& operator=(const FcmClient&) = delete;

    // Queues a push; exactly one response comes back through the callback for each, later,
    // never from inside send(); the callback may call send() again. Each response carries the
    // verdict of FCM's error table (docs/fcm.md §3). While no access token is at hand pushes wait
    // for one; request_timeout_ms counts from send(), waiting and queueing included. Status 0
    // reasons: "Timeout" (the stream is RST_STREAM CANCELled), "ConnectionLost", "StreamReset",
    // "Shutdown", "NotSent" (drain). Streams FCM never processed are resent without a callback,
    // and so is a push FCM answered 401 while the cache fetches a new token. Destroying the
    // client drops what is in flight without callbacks: call shutdown() first.
    void send(PushRequest request);
    std::size_t in_flight() const noexcept;  // waiting + queued + on the wire
    // Stop opening streams; answer everything queued with status 0 reason "Shutdown" once the
    // streams on the wire finish or `deadline_ms` passes.
    void shutdown(std::uint32_t deadline_ms);
    // A reload replaced this client: what FCM has not seen is answered at once with status 0
    // reason "NotSent"; what is on the wire gets its answer; then the connections close.
    void drain();
    // Nothing in flight and every connection closed: the client may be destroyed.
    bool drained() const noexcept;
    // The token endpoint refused the service account, or FCM refused it (403 PERMISSION_DENIED,
    // a 401 on a fresh token): the pipeline holds the app's pushes.
    bool credentials_rejected() const noexcept;
    FcmClientStats stats() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pushsync::sender
