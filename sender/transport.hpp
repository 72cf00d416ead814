// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The seam between the pipeline and the push services: what the dispatcher hands a transport,
// what comes back, and how one connection configuration is described. Owned by no platform:
// the daemon wraps ApnsClient (apns/transport.cpp); unit tests use a fake that answers when the
// test says so.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "shared/config/config.hpp"
#include "shared/device.hpp"

namespace pushsync::sender {

class JwtCache;
class TlsContext;

// One line per transport event (connect, goaway, reconnect, ...).
using TransportLogSink = std::function<void(LogLevel level, const std::string& line)>;

struct PushRequest {
    std::string token;    // lowercase hex
    std::string topic;    // apns-topic: the bundle ID
    std::string payload;  // {"aps":{"content-available":1},"tail":"…"}
    std::int64_t expiration_unix_s = 0;
    std::uint64_t tag = 0;  // caller's id, handed back in the response
};

struct PushResponse {
    std::uint64_t tag = 0;
    // HTTP status from APNs; 0 when there was no answer (timeout, connection lost, stream reset,
    // shutdown): then `reason` says which, e.g. "Timeout", "ConnectionLost", "StreamReset".
    int status = 0;
    std::string reason;             // APNs' JSON reason for errors
    std::int64_t timestamp_ms = 0;  // 410's "timestamp" (milliseconds)
    std::string apns_id;
};

struct ConnectionConfig {
    std::string url;      // https://host:port, e.g. from apns.production / apns.sandbox
    Environment environment = Environment::production;
    std::string ca_file;  // extra trusted CA; empty: system CAs only
    std::uint32_t connections = 1;
    std::uint32_t request_timeout_ms = 10000;
    std::uint32_t ping_interval_s = 60;
    AppAuth auth;         // token: team_id/key_id/key_file; certificate: cert_file/key_file
    TransportLogSink log;  // one line per event (connect, goaway, reconnect, ...); empty: stderr
    // Token auth: share one cache per (team_id, key_id) across clients; empty: the client reads
    // auth.key_file and keeps its own.
    std::shared_ptr<JwtCache> jwt_cache;
    // Loaded ahead (sender/daemon/credentials.hpp, off the event loop at a reload); empty: the client builds
    // its own from ca_file and auth.
    std::shared_ptr<const TlsContext> tls;
    // SHA-256 of the key, certificate and CA files' bytes when loaded: a reload replaces the
    // connection when they changed even if the paths did not.
    std::string credential_digest;
};


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
