// SPDX-License-Identifier: BSD-2-Clause
#include "control_server.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "apns_server.hpp"

namespace apns_sim {

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

ControlResponse error(int status, const std::string& message) {
    return {status, nlohmann::json{{"error", message}}.dump() + "\n"};
}

ControlResponse ok(const nlohmann::json& j) { return {200, j.dump() + "\n"}; }

nlohmann::json parse_body(const std::string& body) {
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

}  // namespace

ControlServer::ControlServer(struct ev_loop* loop, Simulator& sim, ApnsServer& apns, UniqueFd listener)
    : loop_(loop), sim_(sim), apns_(apns), listener_(std::move(listener)) {
    ev_io_init(&accept_watcher_, on_accept, listener_.get(), EV_READ);
    accept_watcher_.data = this;
    ev_io_start(loop_, &accept_watcher_);
}

ControlServer::~ControlServer() {
    ev_io_stop(loop_, &accept_watcher_);
    for (auto& [p, c] : clients_) ev_io_stop(loop_, &c->io);
}

void ControlServer::on_accept(struct ev_loop*, ev_io* w, int) {
    auto* self = static_cast<ControlServer*>(w->data);
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

void ControlServer::drop(Client* c) {
    ev_io_stop(loop_, &c->io);
    clients_.erase(c);
}

bool ControlServer::try_parse(Client& c) {
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
        r = handle(method, target, body);
    } catch (const std::exception& e) {
        r = error(400, e.what());
    }
    c.out = "HTTP/1.1 " + std::to_string(r.status) + " " + status_text(r.status) +
            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(r.body.size()) +
            "\r\nConnection: close\r\n\r\n" + r.body;
    return true;
}

void ControlServer::on_client(struct ev_loop*, ev_io* w, int revents) {
    auto* c = static_cast<Client*>(w->data);
    ControlServer& self = c->server;
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

ControlResponse ControlServer::handle(const std::string& method, const std::string& target, const std::string& body) {
    auto qmark = target.find('?');
    std::string path = target.substr(0, qmark);
    std::string query = qmark == std::string::npos ? "" : target.substr(qmark + 1);

    if (path == "/health" && method == "GET") {
        return ok({{"ok", true},
                   {"environment", to_string(sim_.opt.environment)},
                   {"now_ms", sim_.clock.now_ms()},
                   {"connections", apns_.open_connections()}});
    }
    if (path.rfind("/tokens/", 0) == 0) {
        std::string token = path.substr(8);
        if (token.empty()) return error(400, "missing token");
        if (method == "POST" || method == "PUT") {
            sim_.registry.mark(token, parse_body(body), sim_.clock.now_ms());
            return ok({{"ok", true}});
        }
        if (method == "DELETE") return ok({{"removed", sim_.registry.forget(token)}});
        return error(405, "use POST or DELETE");
    }
    if (path == "/tokens" && method == "GET") return ok(sim_.registry.to_json());
    if (path == "/tokens" && method == "POST") {
        // many at once: {"<token>": {"state": ...}, ...}
        auto j = parse_body(body);
        if (!j.is_object()) throw std::invalid_argument("body must map tokens to marks");
        for (const auto& [token, mark] : j.items()) sim_.registry.mark(token, mark, sim_.clock.now_ms());
        return ok({{"marked", j.size()}});
    }
    if (path == "/faults") {
        if (method == "POST") return ok({{"id", sim_.faults.add(parse_body(body))}});
        if (method == "GET") return ok(sim_.faults.to_json());
        if (method == "DELETE") {
            sim_.faults.clear();
            return ok({{"ok", true}});
        }
        return error(405, "use GET, POST or DELETE");
    }
    if (path == "/goaway" && method == "POST") {
        auto j = parse_body(body);
        std::string debug = j.value("debug", std::string());
        if (debug.empty() && j.contains("reason")) debug = nlohmann::json{{"reason", j.value("reason", std::string())}}.dump();
        apns_.goaway_all(j.value("last_stream_id", -1), j.value("error_code", 0u), debug);
        return ok({{"ok", true}});
    }
    if (path == "/log" && method == "GET") {
        std::uint64_t since = 0;
        auto s = query_param(query, "since");
        std::from_chars(s.data(), s.data() + s.size(), since);
        return {200, sim_.log.since(since)};
    }
    if (path == "/counters" && method == "GET") {
        auto j = sim_.counters.to_json();
        j["log_seq"] = sim_.log.last_seq();
        return ok(j);
    }
    if (path == "/connections" && method == "GET") return ok(apns_.connections_json());
    if (path == "/clock") {
        if (method == "POST") {
            auto j = parse_body(body);
            if (!j.contains("offset_s") || !j["offset_s"].is_number_integer()) throw std::invalid_argument("offset_s must be an integer");
            sim_.clock.set_offset_s(j["offset_s"].get<std::int64_t>());
        } else if (method != "GET") {
            return error(405, "use GET or POST");
        }
        return ok({{"offset_s", sim_.clock.offset_s()}, {"now_s", sim_.clock.now_s()}, {"now_ms", sim_.clock.now_ms()}});
    }
    if (path == "/reset" && method == "POST") {
        sim_.registry.clear();
        sim_.faults.clear();
        sim_.log.clear();
        sim_.counters.clear();
        sim_.token_rate.clear();
        sim_.clock.set_offset_s(0);
        return ok({{"ok", true}});
    }
    return error(404, "no such endpoint: " + method + " " + path + " (see apns-sim --help)");
}

}  // namespace apns_sim
