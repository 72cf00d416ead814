// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The APNs listener: accepts TCP connections and owns one H2Connection per client. Connections
// that end are retired and destroyed outside their own callbacks, before the loop next blocks.
#include <ev.h>

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "net/lingering_close.hpp"
#include "net/openssl_ptr.hpp"
#include "simulator.hpp"
#include "net/unique_fd.hpp"

namespace apns_sim {

class H2Connection;

class ApnsServer {
public:
    ApnsServer(struct ev_loop* loop, Simulator& sim, SslCtxPtr tls, UniqueFd listener);
    ~ApnsServer();
    ApnsServer(const ApnsServer&) = delete;
    ApnsServer& operator=(const ApnsServer&) = delete;

    void retire(std::uint64_t id);
    nlohmann::json connections_json() const;
    // GOAWAY on every open connection; last_stream_id < 0: the last stream each one received.
    void goaway_all(std::int32_t last_stream_id, std::uint32_t error_code, const std::string& debug);
    std::size_t open_connections() const noexcept { return connections_.size(); }

private:
    static void on_accept(struct ev_loop* loop, ev_io* w, int revents);
    static void on_prepare(struct ev_loop* loop, ev_prepare* w, int revents);

    struct ev_loop* loop_;
    Simulator& sim_;
    SslCtxPtr tls_;
    UniqueFd listener_;
    ev_io accept_watcher_;
    ev_prepare prepare_watcher_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, std::unique_ptr<H2Connection>> connections_;
    std::vector<std::unique_ptr<H2Connection>> retired_;
    std::vector<std::unique_ptr<LingeringClose>> lingering_;
};

}  // namespace apns_sim
