// SPDX-License-Identifier: BSD-2-Clause
#include "fcm_server.hpp"

#include "fcm_connection.hpp"

namespace fcm_sim {

namespace {

sim::H2Config h2_config(const Options& opt) {
    sim::H2Config c;
    c.program = "fcm-sim";
    c.initial_window = opt.initial_window;
    c.idle_timeout_s = opt.idle_timeout_s;
    c.quiet = opt.quiet;
    return c;
}

}  // namespace

FcmServer::FcmServer(struct ev_loop* loop, Simulator& sim, sim::SslCtxPtr tls, sim::UniqueFd listener)
    : sim::H2Server(
          loop, sim.counters, h2_config(sim.opt), std::move(tls), std::move(listener),
          [&sim, loop](sim::H2Server& server, SSL_CTX* ctx, sim::UniqueFd fd, std::uint64_t id) {
              return std::make_unique<FcmConnection>(server, sim, loop, ctx, std::move(fd), id);
          },
          [&sim] { sim.log.flush(); }) {}

}  // namespace fcm_sim
