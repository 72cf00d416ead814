// SPDX-License-Identifier: BSD-2-Clause
#include "apns_server.hpp"

#include <nlohmann/json.hpp>

#include "h2_connection.hpp"

namespace apns_sim {

namespace {

sim::H2Config h2_config(const Options& opt) {
    sim::H2Config c;
    c.program = "apns-sim";
    c.initial_window = opt.initial_window;
    c.idle_timeout_s = opt.idle_timeout_s;
    c.idle_goaway_debug = nlohmann::json{{"reason", "IdleTimeout"}}.dump();
    c.stream_limit_goaway_debug = "Maximum active streams violated for this endpoint.";
    c.quiet = opt.quiet;
    return c;
}

}  // namespace

ApnsServer::ApnsServer(struct ev_loop* loop, Simulator& sim, SslCtxPtr tls, UniqueFd listener)
    : sim::H2Server(
          loop, sim.counters, h2_config(sim.opt), std::move(tls), std::move(listener),
          [&sim, loop](sim::H2Server& server, SSL_CTX* ctx, UniqueFd fd, std::uint64_t id) {
              return std::make_unique<H2Connection>(server, sim, server.config(), loop, ctx, std::move(fd), id);
          },
          [&sim] { sim.log.flush(); }) {}

}  // namespace apns_sim
