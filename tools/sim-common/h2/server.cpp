// SPDX-License-Identifier: BSD-2-Clause
#include "tools/sim-common/h2/server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace sim {

H2Server::H2Server(struct ev_loop* loop, Counters& counters, H2Config config, SslCtxPtr tls, UniqueFd listener,
                   Factory factory, std::function<void()> before_block)
    : loop_(loop), counters_(counters), config_(std::move(config)), tls_(std::move(tls)), listener_(std::move(listener)),
      factory_(std::move(factory)), before_block_(std::move(before_block)) {
    ev_io_init(&accept_watcher_, on_accept, listener_.get(), EV_READ);
    accept_watcher_.data = this;
    ev_io_start(loop_, &accept_watcher_);
    ev_prepare_init(&prepare_watcher_, on_prepare);
    prepare_watcher_.data = this;
    ev_prepare_start(loop_, &prepare_watcher_);
}

H2Server::~H2Server() {
    ev_io_stop(loop_, &accept_watcher_);
    ev_prepare_stop(loop_, &prepare_watcher_);
    connections_.clear();
    retired_.clear();
    lingering_.clear();
}

void H2Server::on_accept(struct ev_loop*, ev_io* w, int) {
    auto* self = static_cast<H2Server*>(w->data);
    for (;;) {
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        int fd = ::accept4(self->listener_.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                std::cerr << self->config_.program << ": accept failed: " << std::strerror(errno) << '\n';
            }
            return;
        }
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::uint64_t id = self->next_id_++;
        self->counters_.add("connections_accepted");
        self->counters_.add("connections_open");
        try {
            self->connections_.emplace(id, self->factory_(*self, self->tls_.get(), UniqueFd(fd), id));
        } catch (const std::exception& e) {
            std::cerr << self->config_.program << ": conn=" << id << " could not start: " << e.what() << '\n';
            self->counters_.sub("connections_open");
        }
    }
}

void H2Server::retire(std::uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    lingering_.push_back(std::make_unique<LingeringClose>(loop_, it->second->release_socket()));
    retired_.push_back(std::move(it->second));
    connections_.erase(it);
    counters_.sub("connections_open");
}

void H2Server::on_prepare(struct ev_loop*, ev_prepare* w, int) {
    auto* self = static_cast<H2Server*>(w->data);
    self->retired_.clear();
    std::erase_if(self->lingering_, [](const auto& socket) { return socket->done(); });
    if (self->before_block_) self->before_block_();
}

nlohmann::json H2Server::connections_json() const {
    auto out = nlohmann::json::array();
    for (const auto& [id, c] : connections_) out.push_back(c->to_json());
    return out;
}

void H2Server::goaway_all(std::int32_t last_stream_id, std::uint32_t error_code, const std::string& debug) {
    std::vector<H2Connection*> all;
    for (auto& [id, c] : connections_) all.push_back(c.get());
    for (auto* c : all) c->goaway(last_stream_id, error_code, debug);
}

}  // namespace sim
