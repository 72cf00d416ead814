// SPDX-License-Identifier: BSD-2-Clause
#include "apns_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "h2_connection.hpp"

namespace apns_sim {

ApnsServer::ApnsServer(struct ev_loop* loop, Simulator& sim, SslCtxPtr tls, UniqueFd listener)
    : loop_(loop), sim_(sim), tls_(std::move(tls)), listener_(std::move(listener)) {
    ev_io_init(&accept_watcher_, on_accept, listener_.get(), EV_READ);
    accept_watcher_.data = this;
    ev_io_start(loop_, &accept_watcher_);
    ev_prepare_init(&prepare_watcher_, on_prepare);
    prepare_watcher_.data = this;
    ev_prepare_start(loop_, &prepare_watcher_);
}

ApnsServer::~ApnsServer() {
    ev_io_stop(loop_, &accept_watcher_);
    ev_prepare_stop(loop_, &prepare_watcher_);
    connections_.clear();
    retired_.clear();
    lingering_.clear();
}

void ApnsServer::on_accept(struct ev_loop*, ev_io* w, int) {
    auto* self = static_cast<ApnsServer*>(w->data);
    for (;;) {
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        int fd = ::accept4(self->listener_.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                std::cerr << "apns-sim: accept failed: " << std::strerror(errno) << '\n';
            }
            return;
        }
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::uint64_t id = self->next_id_++;
        self->sim_.counters.add("connections_accepted");
        self->sim_.counters.add("connections_open");
        try {
            self->connections_.emplace(
                id, std::make_unique<H2Connection>(*self, self->sim_, self->loop_, self->tls_.get(), UniqueFd(fd), id));
        } catch (const std::exception& e) {
            std::cerr << "apns-sim: conn=" << id << " could not start: " << e.what() << '\n';
            self->sim_.counters.sub("connections_open");
        }
    }
}

void ApnsServer::retire(std::uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    lingering_.push_back(std::make_unique<LingeringClose>(loop_, it->second->release_socket()));
    retired_.push_back(std::move(it->second));
    connections_.erase(it);
    sim_.counters.sub("connections_open");
}

void ApnsServer::on_prepare(struct ev_loop*, ev_prepare* w, int) {
    auto* self = static_cast<ApnsServer*>(w->data);
    self->retired_.clear();
    std::erase_if(self->lingering_, [](const auto& socket) { return socket->done(); });
    self->sim_.log.flush();
}

nlohmann::json ApnsServer::connections_json() const {
    auto out = nlohmann::json::array();
    for (const auto& [id, c] : connections_) out.push_back(c->to_json());
    return out;
}

void ApnsServer::goaway_all(std::int32_t last_stream_id, std::uint32_t error_code, const std::string& debug) {
    std::vector<H2Connection*> all;
    for (auto& [id, c] : connections_) all.push_back(c.get());
    for (auto* c : all) c->goaway(last_stream_id, error_code, debug);
}

}  // namespace apns_sim
