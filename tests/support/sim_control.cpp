// SPDX-License-Identifier: BSD-2-Clause
#include "tests/support/sim_control.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace pushsync::test {

// One HTTP/1.1 request to 127.0.0.1:port; the control API closes after each answer.
ControlResponse control_request(int port, const std::string& method, const std::string& path, const std::string& body) {
    ControlResponse out;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return out;
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return out;
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
                      "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    std::size_t sent = 0;
    while (sent < req.size()) {
        ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return out;
        sent += static_cast<std::size_t>(n);
    }
    std::string resp;
    char buf[16384];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 10000) <= 0) return out;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0) return out;
        if (n == 0) break;
        resp.append(buf, static_cast<std::size_t>(n));
    }
    auto head_end = resp.find("\r\n\r\n");
    if (resp.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) return out;
    out.status = std::stoi(resp.substr(9, 3));
    out.body = resp.substr(head_end + 4);
    return out;
}

nlohmann::json control_json_request(const std::string& who, int port, const std::string& method, const std::string& path,
                                    const nlohmann::json& body) {
    auto r = control_request(port, method, path, body.is_null() ? "" : body.dump());
    if (r.status != 200) {
        throw std::runtime_error(who + " control " + method + " " + path + " -> " + std::to_string(r.status) + " " + r.body);
    }
    return nlohmann::json::parse(r.body);
}

bool wait_for_log_seq(int control_port, std::size_t n, std::chrono::milliseconds timeout) {
    return wait_until(
        [&] {
            auto r = control_request(control_port, "GET", "/counters", "");
            if (r.status != 200) return false;
            auto j = nlohmann::json::parse(r.body, nullptr, false);
            return j.is_object() && j.value("log_seq", std::uint64_t{0}) >= n;
        },
        timeout, std::chrono::milliseconds(10));
}

void start_simulator(const std::string& who, Process& process, int& port, int& control_port,
                     const std::function<void()>& prepare, const std::function<std::vector<std::string>()>& command,
                     const std::filesystem::path& stderr_file) {
    std::string last_error;
    for (int attempt = 0; attempt < 3; ++attempt) {
        port = free_tcp_port();
        control_port = free_tcp_port();
        if (control_port == port) continue;
        if (prepare) prepare();
        process = Process::spawn(command(), stderr_file);
        // /health answering means both ports are up, with no probe connection on the service
        // port that would show in its counters.
        const int cp = control_port;
        bool up = wait_until([&] { return !process.running() || control_request(cp, "GET", "/health", "").status == 200; },
                             std::chrono::seconds(10));
        if (up && process.running()) return;
        last_error = read_file(stderr_file);
        if (process.running()) process.kill_and_wait();
    }
    throw std::runtime_error(who + " did not start: " + last_error);
}

void stop_simulator(Process& process) {
    if (process.pid() > 0 && process.running()) {
        process.signal(SIGTERM);
        if (process.wait(std::chrono::seconds(5)) < 0) process.kill_and_wait();
    }
}

}  // namespace pushsync::test
