// SPDX-License-Identifier: BSD-2-Clause
#include "bench/e2e/load_generator.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <ctime>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace pushsync::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t system_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class Fd {
public:
    explicit Fd(int fd = -1) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

struct Connection {
    Fd fd;
    std::string in;     // bytes of answers not parsed yet
    bool busy = false;  // one request in flight
};

Fd connect_to(int port) {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
    }
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// Writes all of `bytes` (a small request: a socket buffer with room takes it at once).
bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool header_is(std::string_view line, std::string_view name) {
    if (line.size() <= name.size() || line[name.size()] != ':') return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
    }
    return true;
}

std::string_view header_value(std::string_view line, std::string_view name) {
    std::string_view value = line.substr(name.size() + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    return value;
}

struct Answer {
    int status = 0;
    std::size_t bytes = 0;  // 0: not complete yet
    bool close = false;     // "Connection: close": nginx closes after it (keepalive_requests)
};

// One complete answer at the front of `in`. Content-Length is the only framing nginx uses for
// these answers.
Answer parse_answer(std::string_view in) {
    const auto end = in.find("\r\n\r\n");
    if (end == std::string_view::npos) return {};
    const std::string_view head = in.substr(0, end);
    Answer answer;
    if (head.size() > 12) std::from_chars(head.data() + 9, head.data() + 12, answer.status);
    std::size_t length = 0;
    for (std::size_t pos = head.find("\r\n"); pos != std::string_view::npos; pos = head.find("\r\n", pos + 2)) {
        const std::string_view line = head.substr(pos + 2, head.find("\r\n", pos + 2) - (pos + 2));
        if (header_is(line, "content-length")) {
            const std::string_view value = header_value(line, "content-length");
            std::from_chars(value.data(), value.data() + value.size(), length);
        } else if (header_is(line, "connection")) {
            answer.close = header_value(line, "connection") == "close";
        }
    }
    if (in.size() < end + 4 + length) return {};
    answer.bytes = end + 4 + length;
    return answer;
}

}  // namespace

LoadResult run_load(const LoadOptions& options, const std::function<std::string(std::uint64_t id)>& request_for) {
    const auto total = static_cast<std::uint64_t>(options.rate * options.seconds);
    LoadResult result;
    if (options.record_send_times) result.send_us.assign(total, 0);

    Fd epoll(::epoll_create1(EPOLL_CLOEXEC));
    if (epoll.get() < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    std::vector<Connection> connections(static_cast<std::size_t>(options.connections));
    std::deque<std::size_t> idle;  // first in, first out: every connection takes its share
    // A new connection in slot `index` (nginx closes one after keepalive_requests, 1,000).
    const auto open = [&](std::size_t index) {
        Connection& c = connections[index];
        if (c.fd.get() >= 0) ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, c.fd.get(), nullptr);
        c = Connection{connect_to(options.port), {}, false};
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = index;
        if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, c.fd.get(), &ev) != 0) {
            throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
        }
        idle.push_back(index);
    };
    for (std::size_t i = 0; i < connections.size(); ++i) open(i);

    const auto start = Clock::now();
    const auto due = [&](std::uint64_t i) {
        return start + std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / options.rate));
    };
    std::uint64_t next = 0;
    std::size_t in_flight = 0;
    Clock::time_point last_sent = start;
    Clock::time_point give_up = Clock::time_point::max();
    std::vector<epoll_event> events(connections.size());
    char buffer[16384];
    while (next < total || in_flight > 0) {
        auto now = Clock::now();
        while (next < total && !idle.empty() && due(next) <= now) {
            const std::size_t index = idle.front();
            idle.pop_front();
            Connection& c = connections[index];
            const std::string request = request_for(options.first_id + next);
            if (options.record_send_times) result.send_us[next] = system_us();
            if (send_all(c.fd.get(), request)) {
                c.busy = true;
                ++in_flight;
            } else {
                ++result.failed;
                ++result.failures[-1];
                open(index);
            }
            const double lag_ms = std::chrono::duration<double, std::milli>(now - due(next)).count();
            result.max_lag_ms = std::max(result.max_lag_ms, lag_ms);
            if (lag_ms > 1.0) ++result.late_1ms;
            ++result.sent;
            ++next;
            last_sent = now;
            now = Clock::now();
        }
        if (next == total && give_up == Clock::time_point::max()) give_up = now + options.answer_timeout;
        if (now > give_up) break;
        // Sleep until the next request is due (with an idle connection) or an answer comes.
        timespec timeout{0, 1'000'000};
        if (next < total && !idle.empty()) {
            const auto wait = std::max(due(next) - now, Clock::duration::zero());
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
            timeout = {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
        }
        const int n = ::epoll_pwait2(epoll.get(), events.data(), static_cast<int>(events.size()), &timeout, nullptr);
        if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("epoll_pwait2: ") + std::strerror(errno));
        for (int e = 0; e < n; ++e) {
            const std::size_t index = events[static_cast<std::size_t>(e)].data.u64;
            Connection& c = connections[index];
            const ssize_t got = ::recv(c.fd.get(), buffer, sizeof buffer, MSG_DONTWAIT);
            if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (got <= 0) {  // closed: a request on it is lost
                if (c.busy) {
                    --in_flight;
                    ++result.failed;
                    ++result.failures[-1];
                } else {
                    std::erase(idle, index);
                }
                open(index);
                continue;
            }
            c.in.append(buffer, static_cast<std::size_t>(got));
            for (Answer a = parse_answer(c.in); a.bytes > 0 && c.busy; a = parse_answer(c.in)) {
                c.in.erase(0, a.bytes);
                c.busy = false;
                --in_flight;
                if (a.status == 202) {
                    ++result.accepted;
                } else {
                    ++result.failed;
                    ++result.failures[a.status];
                }
                if (a.close) open(index);
                else idle.push_back(index);
            }
        }
    }
    result.failed += in_flight;  // never answered
    if (in_flight > 0) result.failures[0] += in_flight;
    result.send_seconds = std::chrono::duration<double>(last_sent - start).count();
    return result;
}

}  // namespace pushsync::bench
