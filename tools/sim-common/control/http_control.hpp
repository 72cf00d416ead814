// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A simulator's control API transport: plain HTTP/1.1 with JSON on a loopback port, one request
// per connection, so tests and scripts steer the simulator. The routes are the simulator's.
#include <ev.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tools/sim-common/net/unique_fd.hpp"

namespace sim {

struct ControlResponse {
    int status = 200;
    std::string body;  // JSON
};

// (method, target with query, body) -> answer; an exception answers 400 {"error": what()}.
using ControlHandler = std::function<ControlResponse(const std::string&, const std::string&, const std::string&)>;

ControlResponse control_ok(const nlohmann::json& j);
ControlResponse control_error(int status, const std::string& message);
// An empty body is {}; anything but JSON throws std::invalid_argument.
nlohmann::json parse_json_body(const std::string& body);
// The raw value of name in a query string ("" when absent).
std::string query_param(const std::string& query, const std::string& name);

class ControlHttpServer {
public:
    ControlHttpServer(struct ev_loop* loop, UniqueFd listener, ControlHandler handler);
    ~ControlHttpServer();
    ControlHttpServer(const ControlHttpServer&) = delete;
    ControlHttpServer& operator=(const ControlHttpServer&) = delete;

private:
    struct Client {
        ControlHttpServer& server;
        UniqueFd fd;
        ev_io io;
        std::string in;
        std::string out;
        std::size_t out_offset = 0;
        bool responded = false;
        bool continue_sent = false;
        Client(ControlHttpServer& s, UniqueFd f) : server(s), fd(std::move(f)) {}
    };

    static void on_accept(struct ev_loop* loop, ev_io* w, int revents);
    static void on_client(struct ev_loop* loop, ev_io* w, int revents);
    void drop(Client* c);
    bool try_parse(Client& c);

    struct ev_loop* loop_;
    UniqueFd listener_;
    ControlHandler handler_;
    ev_io accept_watcher_;
    std::map<Client*, std::unique_ptr<Client>> clients_;
};

}  // namespace sim
