// SPDX-License-Identifier: BSD-2-Clause
#include "tools/sim-common/control/http_control.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace sim {

namespace {

constexpr std::size_t max_request_bytes = 1 << 20;

const char* status_text(int status) {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 413: return "Payload Too Large";
        default: return "Error";
    }
}

}  // namespace

ControlResponse control_error(int status, const std::string& message) {
    return {status, nlohmann::json{{"error", message}}.dump() + "\n"};
}

ControlResponse control_ok(const nlohmann::json& j) { return {200, j.dump() + "\n"}; }

nlohmann::json parse_json_body(const std::string& body) {
    if (body.empty()) return nlohmann::json::object();
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) throw std::invalid_argument("body is not JSON");
    return j;
}

std::string query_param(const std::string& query, const std::string& name) {
    std::size_t pos = 0;
    while (pos < query.size()) {
        auto amp = query.find('&', pos);
        auto part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
        auto eq = part.find('=');
        if (part.substr(0, eq) == name) return eq == std::string::npos ? "" : part.substr(eq + 1);
        if (amp == std::string::npos) break;
        pos = amp + 1;
    }
    return "";
}

ControlHttpServer::ControlHttpServer(struct ev_loop* loop, UniqueFd listener, ControlHandler handler)
    : loop_(loop), listener_(std::move(listener)), handler_(std::move(handler)) {
    ev_io_init(&accept_watcher_, on_accept, listener_.get(), EV_READ);
    accept_watcher_.data = this;
    ev_io_start(loop_, &accept_watcher_);
}

ControlHttpServer::~ControlHttpServer() {
    ev_io_stop(loop_, &accept_watcher_);
    for (auto& [p, c] : clients_) ev_io_stop(loop_, &c->io);
}

void ControlHttpServer::on_accept(struct ev_loop*, ev_io* w, int) {
    auto* self = static_cast<ControlHttpServer*>(w->data);
    for (;;) {
        int fd = ::accept4(self->listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        auto client = std::make_unique<Client>(*self, UniqueFd(fd));
        ev_io_init(&client->io, on_client, fd, EV_READ);
        client->io.data = client.get();
        ev_io_start(self->loop_, &client->io);
        Client* key = client.get();
        self->clients_.emplace(key, std::move(client));
    }
}

void ControlHttpServer::drop(Client* c) {
    ev_io_stop(loop_, &c->io);
    clients_.erase(c);
}

bool ControlHttpServer::try_parse(Client& c) {
    auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (c.in.size() > max_request_bytes) {
            c.out = "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            return true;
        }
        return false;
    }
    std::string head = c.in.substr(0, end);
    auto line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) {
        c.out = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        return true;
    }
    std::string method = request_line.substr(0, sp1);
    std::string target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t content_length = 0;
    bool expect_continue = false;
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
        auto next = head.find("\r\n", pos);
        std::string line = head.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            if (name == "content-length") {
                std::string v = line.substr(colon + 1);
                v.erase(0, v.find_first_not_of(' '));
                std::from_chars(v.data(), v.data() + v.size(), content_length);
            } else if (name == "expect" && line.find("100-continue") != std::string::npos) {
                expect_continue = true;
            }
        }
        if (next == std::string::npos) break;
        pos = next + 2;
    }
    if (c.in.size() < end + 4 + content_length) {
        // curl waits a second for this before sending a body over 1 KiB
        if (expect_continue && !c.continue_sent) {
            static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
            c.continue_sent = ::send(c.fd.get(), cont.data(), cont.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(cont.size());
        }
        return false;
    }
    std::string body = c.in.substr(end + 4, content_length);
    ControlResponse r;
    try {
        r = handler_(method, target, body);
    } catch (const std::exception& e) {
        r = control_error(400, e.what());
    }
    c.out = "HTTP/1.1 " + std::to_string(r.status) + " " + status_text(r.status) +
            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(r.body.size()) +
            "\r\nConnection: close\r\n\r\n" + r.body;
    return true;
}

void ControlHttpServer::on_client(struct ev_loop*, ev_io* w, int revents) {
    auto* c = static_cast<Client*>(w->data);
    ControlHttpServer& self = c->server;
    if (!c->responded && (revents & EV_READ)) {
        char buf[8192];
        for (;;) {
            ssize_t n = ::recv(c->fd.get(), buf, sizeof buf, 0);
            if (n > 0) {
                c->in.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0) {
                self.drop(c);
                return;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            self.drop(c);
            return;
        }
        if (!self.try_parse(*c)) return;
        c->responded = true;
        ev_io_stop(self.loop_, &c->io);
        ev_io_set(&c->io, c->fd.get(), EV_WRITE);
        ev_io_start(self.loop_, &c->io);
    }
    if (c->responded) {
        while (c->out_offset < c->out.size()) {
            ssize_t n = ::send(c->fd.get(), c->out.data() + c->out_offset, c->out.size() - c->out_offset, MSG_NOSIGNAL);
            if (n > 0) {
                c->out_offset += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
            if (n < 0 && errno == EINTR) continue;
            break;
        }
        self.drop(c);
    }
}

}  // namespace sim
