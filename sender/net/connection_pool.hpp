// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A push client's connections to one endpoint (ApnsClient's `apns.connections`, FcmClient's
// `fcm.connections` and its token endpoint's one): slots, each holding at most one open
// connection and reconnecting with backoff (1 s doubling to 60 s; at once, and reset, after a
// connection that served responses), the round robin over connections with a free stream, and
// the retiring (drain, then close) and burying of connections. What goes on the streams is the
// client's; the pool only keeps the connections.
#include <ev.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sender/loop_watcher.hpp"
#include "sender/net/h2_connection.hpp"

namespace pushsync::sender {

class ConnectionToken;  // sender/apns/jwt.hpp

// One HTTP/2 connection and what the client tracks about it.
struct H2Link {
    std::unique_ptr<H2Connection> connection;
    std::shared_ptr<ConnectionToken> token;  // APNs token auth only (set by Deps::on_connect)
    std::string bearer;                      // the authorization value of bearer_generation
    std::uint64_t bearer_generation = 0;
    std::size_t slot = 0;
    bool active = true;      // the slot's current connection (not draining, not closed)
    bool was_ready = false;
    bool succeeded = false;  // served a response below 500
};

class ConnectionPool {
public:
    struct Deps {
        struct ev_loop* loop;
        const Endpoint& endpoint;
        const TlsContext& tls;
        std::function<void(H2Link&)> on_connect;  // a new connection's link, before it starts; may be empty
        ConnectionOwner& owner;                    // gets every connection's events
        const TransportLogger& log;
        const std::string& name;  // the client's, leading every log line
        std::uint64_t& connects;          // connections that got the server's SETTINGS
        std::uint64_t& connect_failures;  // attempts that ended before serving a response
        std::function<void()> kick;            // a slot may connect again at once
        std::function<void()> reconnect_due;   // a slot's backoff passed (from its timer)
    };
    // `options`: how each connection is set up (its service names the log lines: "apns", "fcm").
    ConnectionPool(Deps deps, std::uint32_t connections, double ping_interval_s, ConnectOptions options = {});
    ConnectionPool(const ConnectionPool&) = delete;
    ConnectionPool& operator=(const ConnectionPool&) = delete;
    ~ConnectionPool();  // connections close silently

    // Round robin over the active connections with a free stream, spreading load (as Apple asks);
    // `max_open` caps the streams a connection carries below the server's own limit.
    H2Link* pick(std::size_t max_open = SIZE_MAX);
    H2Link* find(H2Connection& connection);
    // Copies: a flush or close can move a link out of the pool.
    std::vector<H2Connection*> open_connections() const;
    bool empty() const noexcept { return links_.empty(); }

    // Every slot without a connection whose backoff has passed connects.
    void connect_idle_slots();
    // No new streams on it; it closes once its streams end and its slot reconnects.
    void retire(H2Link& link, const std::string& why);
    // Never reconnect again; every connection drains (a reload replaced the client, or shutdown).
    void stop(const std::string& why);
    void close_all(const std::string& why);

    // H2Connection's events, the pool's part of them.
    void ready(H2Connection& connection);
    void succeeded(H2Link& link);  // a response below 500: the slot's backoff starts over
    // The link goes to the graveyard, freed by bury() outside the connection's own callbacks.
    void closed(H2Connection& connection);
    bool has_dead() const noexcept { return !graveyard_.empty(); }
    void bury() noexcept { graveyard_.clear(); }

    auto callback_failed(const char* callback) noexcept {
        return [this, callback](const std::string& what) {
            deps_.log.error(deps_.name + " callback " + callback + " failed: " + what + "; stopping the event loop");
        };
    }

private:
    // One of config.connections positions, reconnecting with backoff.
    struct Slot {
        std::size_t index = 0;
        H2Link* link = nullptr;
        ev_timer reconnect_timer{};
        bool may_connect = true;
        double next_backoff_s = 1;
    };

    void connect(Slot& slot);
    void schedule_reconnect(Slot& slot, bool after_success);
    void on_reconnect_timer(ev_timer& timer);

    Deps deps_;
    double ping_interval_s_;
    ConnectOptions options_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::vector<std::unique_ptr<H2Link>> links_;      // open or draining connections
    std::vector<std::unique_ptr<H2Link>> graveyard_;  // closed; freed outside their own callbacks
    LoopWatchers<ConnectionPool> watchers_{deps_.loop, *this};  // the slots' reconnect timers
    std::uint64_t next_connection_id_ = 1;
    std::size_t next_link_ = 0;
    bool stopped_ = false;
};

}  // namespace pushsync::sender
