// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The seam between the pipeline and the push services: what the dispatcher hands a transport,
// what comes back, and how one connection configuration is described. Owned by no platform:
// the daemon wraps ApnsClient (apns/transport.cpp) and FcmClient (fcm/transport.cpp); unit tests
// use a fake that answers when the test says so.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sender/verdict.hpp"
#include "shared/config/config.hpp"
#include "shared/device.hpp"

namespace pushsync::sender {

class JwtCache;
class TlsContext;
namespace fcm {
struct ServiceAccount;
}

// One line per transport event (connect, goaway, reconnect, ...).
using TransportLogSink = std::function<void(LogLevel level, const std::string& line)>;

struct PushRequest {
    std::string token;    // as stored: lowercase hex for apns, as the app got it for fcm
    std::string topic;    // the bundle ID (apns-topic; the package name for fcm)
    std::string tail;
    // apns: {"aps":{"content-available":1},"tail":"…"}, set by the dispatcher. Other platforms'
    // transports build their body from token and tail (docs/api.md "What reaches FCM").
    std::string payload;
    std::int64_t expiration_unix_s = 0;
    std::uint64_t tag = 0;  // caller's id, handed back in the response
};

struct PushResponse {
    std::uint64_t tag = 0;
    // HTTP status from the service; 0 when there was no answer (timeout, connection lost, stream
    // reset, shutdown): then `reason` says which, e.g. "Timeout", "ConnectionLost", "StreamReset".
    int status = 0;
    std::string reason;             // the service's error reason, fit for a log line
    std::int64_t timestamp_ms = 0;  // unregistered: a registration must be newer to keep the device
    std::string apns_id;            // apns-id; empty for other platforms
    // Set by a transport that sorts its own answers (FCM); empty: classify(status, reason).
    std::optional<Verdict> verdict;
    std::int64_t retry_after_ms = 0;  // retry: the least wait the service asked for (0: backoff alone)
};

struct ConnectionConfig {
    Platform platform = Platform::apns;
    std::string url;      // https://host:port, e.g. from apns.production / apns.sandbox / fcm.endpoint
    Environment environment = Environment::production;
    std::string ca_file;  // extra trusted CA; empty: system CAs only
    std::uint32_t connections = 1;
    std::uint32_t request_timeout_ms = 10000;
    std::uint32_t ping_interval_s = 60;
    std::uint32_t max_streams = 100;  // fcm: requests in flight per connection (fcm.max_streams)
    std::string token_uri;            // fcm: fcm.token_uri; empty: the service account's own
    AndroidPriority android_priority = AndroidPriority::high;  // fcm
    std::uint32_t expiration_s = 3600;  // fcm: the message's ttl (delivery.expiration_s)
    // token: team_id/key_id/key_file; certificate: cert_file/key_file; service_account: file
    AppAuth auth;
    TransportLogSink log;  // one line per event (connect, goaway, reconnect, ...); empty: stderr
    // fcm: called once per finished access-token request (true: it brought a token), for the
    // metrics; empty: not counted.
    std::function<void(bool got_token)> on_token_fetch;
    // Token auth: share one cache per (team_id, key_id) across clients; empty: the client reads
    // auth.key_file and keeps its own.
    std::shared_ptr<JwtCache> jwt_cache;
    // Loaded ahead (sender/daemon/credentials.hpp, off the event loop at a reload); empty: the client builds
    // its own from ca_file and auth.
    std::shared_ptr<const TlsContext> tls;
    // fcm: the service account, read and checked with the credentials (the same bytes as the
    // digest below); empty: the client reads auth.file.
    std::shared_ptr<const fcm::ServiceAccount> service_account;
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
