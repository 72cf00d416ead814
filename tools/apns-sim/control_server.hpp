// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The control API: plain HTTP/1.1 with JSON on a loopback port, one request per connection, so
// tests and scripts steer the simulator (mark tokens, script faults, read the log and counters).
#include <ev.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "simulator.hpp"
#include "net/unique_fd.hpp"

namespace apns_sim {

class ApnsServer;

struct ControlResponse {
    int status = 200;
    std::string body;  // JSON
};

class ControlServer {
public:
    ControlServer(struct ev_loop* loop, Simulator& sim, ApnsServer& apns, UniqueFd listener);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // The routing, separate from the socket handling.
    ControlResponse handle(const std::string& method, const std::string& target, const std::string& body);

private:
    struct Client {
        ControlServer& server;
        UniqueFd fd;
        ev_io io;
        std::string in;
        std::string out;
        std::size_t out_offset = 0;
        bool responded = false;
        bool continue_sent = false;
        Client(ControlServer& s, UniqueFd f) : server(s), fd(std::move(f)) {}
    };

    static void on_accept(struct ev_loop* loop, ev_io* w, int revents);
    static void on_client(struct ev_loop* loop, ev_io* w, int revents);
    void drop(Client* c);
    bool try_parse(Client& c);

    struct ev_loop* loop_;
    Simulator& sim_;
    ApnsServer& apns_;
    UniqueFd listener_;
    ev_io accept_watcher_;
    std::map<Client*, std::unique_ptr<Client>> clients_;
};

}  // namespace apns_sim
