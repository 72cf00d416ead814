// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A simulator's listener: accepts TCP connections and owns one H2Connection per client, made by
// the simulator's factory. Connections that end are retired and destroyed outside their own
// callbacks, before the loop next blocks; their sockets close gracefully (lingering_close.hpp).
#include <ev.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/sim-common/h2/connection.hpp"
#include "tools/sim-common/log/counters.hpp"
#include "tools/sim-common/net/lingering_close.hpp"
#include "tools/sim-common/net/openssl_ptr.hpp"
#include "tools/sim-common/net/unique_fd.hpp"

namespace sim {

class H2Server {
public:
    using Factory = std::function<std::unique_ptr<H2Connection>(H2Server&, SSL_CTX*, UniqueFd, std::uint64_t id)>;

    // before_block runs each time the loop is about to wait (the simulator flushes its log there).
    H2Server(struct ev_loop* loop, Counters& counters, H2Config config, SslCtxPtr tls, UniqueFd listener, Factory factory,
             std::function<void()> before_block);
    ~H2Server();
    H2Server(const H2Server&) = delete;
    H2Server& operator=(const H2Server&) = delete;

    void retire(std::uint64_t id);
    nlohmann::json connections_json() const;
    // GOAWAY on every open connection; last_stream_id < 0: the last stream each one received.
    void goaway_all(std::int32_t last_stream_id, std::uint32_t error_code, const std::string& debug);
    std::size_t open_connections() const noexcept { return connections_.size(); }
    // The settings every connection of this server uses (they keep a reference).
    const H2Config& config() const noexcept { return config_; }

private:
    static void on_accept(struct ev_loop* loop, ev_io* w, int revents);
    static void on_prepare(struct ev_loop* loop, ev_prepare* w, int revents);

    struct ev_loop* loop_;
    Counters& counters_;
    H2Config config_;
    SslCtxPtr tls_;
    UniqueFd listener_;
    Factory factory_;
    std::function<void()> before_block_;
    ev_io accept_watcher_;
    ev_prepare prepare_watcher_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, std::unique_ptr<H2Connection>> connections_;
    std::vector<std::unique_ptr<H2Connection>> retired_;
    std::vector<std::unique_ptr<LingeringClose>> lingering_;
};

}  // namespace sim
