// SPDX-License-Identifier: BSD-2-Clause
#include "tests/support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>

namespace pushsync::test {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

template <typename T>
bool parse_number(std::string_view text, T& out, int base = 10) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out, base);
    return error == std::errc{} && end == text.data() + text.size();
}

}  // namespace

std::string HttpAnswer::header(std::string_view name) const {
    const auto it = headers.find(lower(name));
    return it == headers.end() ? std::string() : it->second;
}

HttpClient::~HttpClient() {
    close_connection();
}

void HttpClient::close_connection() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
}

bool HttpClient::connect_once() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    timeval tv{};  // a test never hangs on a lost answer
    tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close_connection();
        return false;
    }
    return true;
}

bool HttpClient::send_all(std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool HttpClient::fill() {
    char chunk[16384];
    while (true) {
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
}

bool HttpClient::read_response(HttpAnswer& answer, bool& nothing_read) {
    nothing_read = true;
    std::size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
        if (!fill()) return false;
        nothing_read = false;
    }
    nothing_read = false;
    const std::string head = buffer_.substr(0, head_end);
    buffer_.erase(0, head_end + 4);
    // "HTTP/1.1 202 Accepted"
    if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0 || !parse_number(std::string_view(head).substr(9, 3), answer.status)) {
        return false;
    }
    std::size_t line_end = head.find("\r\n");
    while (line_end != std::string::npos) {
        const std::size_t start = line_end + 2;
        line_end = head.find("\r\n", start);
        const std::string_view line = std::string_view(head).substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
        const auto colon = line.find(':');
        if (colon != std::string_view::npos) answer.headers[lower(trim(line.substr(0, colon)))] = std::string(trim(line.substr(colon + 1)));
    }
    if (lower(answer.header("transfer-encoding")) == "chunked") {
        while (true) {
            std::size_t eol;
            while ((eol = buffer_.find("\r\n")) == std::string::npos) {
                if (!fill()) return false;
            }
            std::size_t size = 0;
            if (!parse_number(std::string_view(buffer_).substr(0, eol), size, 16)) return false;
            while (buffer_.size() < eol + 2 + size + 2) {
                if (!fill()) return false;
            }
            answer.body.append(buffer_, eol + 2, size);
            buffer_.erase(0, eol + 2 + size + 2);
            if (size == 0) break;
        }
    } else {
        const std::string length = answer.header("content-length");
        std::size_t size = 0;
        if (!length.empty() && !parse_number(std::string_view(length), size)) return false;
        while (buffer_.size() < size) {
            if (!fill()) return false;
        }
        answer.body = buffer_.substr(0, size);
        buffer_.erase(0, size);
    }
    if (lower(answer.header("connection")) == "close") close_connection();
    return true;
}

HttpAnswer HttpClient::request(std::string_view method, std::string_view path, std::string_view body) {
    std::string request;
    request.reserve(256 + body.size());
    request.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if (!body.empty()) {
        request.append("Content-Type: application/json\r\nContent-Length: ").append(std::to_string(body.size())).append("\r\n");
    } else if (method == "PUT" || method == "POST") {
        request.append("Content-Length: 0\r\n");
    }
    request.append("\r\n").append(body);
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (fd_ >= 0) {
            // An idle connection the server has closed already: find out before sending.
            char probe;
            const ssize_t n = ::recv(fd_, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) close_connection();
        }
        const bool reused = fd_ >= 0;
        if (!reused && !connect_once()) return HttpAnswer{};  // not_sent
        HttpAnswer answer;
        bool nothing_read = true;
        if (send_all(request) && read_response(answer, nothing_read)) {
            answer.outcome = HttpAnswer::Outcome::answered;
            return answer;
        }
        close_connection();
        if (!reused || !nothing_read || on_close_ == OnUnansweredClose::unknown) break;
    }
    HttpAnswer lost;
    lost.outcome = HttpAnswer::Outcome::unknown;
    return lost;
}

}  // namespace pushsync::test
