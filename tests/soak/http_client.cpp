#include "tests/soak/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace pushsync::soak {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = lower(c);
    return out;
}

}  // namespace

HttpClient::~HttpClient() { close_connection(); }

void HttpClient::close_connection() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
}

bool HttpClient::connect_once() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    timeval tv{};
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

bool HttpClient::read_response(Answer& answer) {
    std::size_t header_end;
    char chunk[16384];
    auto fill = [&]() {
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) return true;
        if (n <= 0) return false;
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
    };
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
        if (!fill()) return false;
    }
    const std::string_view head(buffer_.data(), header_end);
    // "HTTP/1.1 202 Accepted"
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return false;
    int status = 0;
    std::from_chars(head.data() + 9, head.data() + 12, status);
    std::size_t content_length = 0;
    bool close_after = false;
    std::size_t line_start = head.find("\r\n");
    while (line_start != std::string_view::npos) {
        line_start += 2;
        const std::size_t line_end = head.find("\r\n", line_start);
        const std::string_view line = head.substr(line_start, line_end - line_start);
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
            const std::string name = lowercase(line.substr(0, colon));
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            if (name == "content-length") std::from_chars(value.data(), value.data() + value.size(), content_length);
            if (name == "connection" && lowercase(value) == "close") close_after = true;
            if (name == "retry-after") answer.retry_after = std::string(value);
        }
        line_start = line_end;
    }
    const std::size_t body_start = header_end + 4;
    while (buffer_.size() < body_start + content_length) {
        if (!fill()) return false;
    }
    answer.status = status;
    answer.body = buffer_.substr(body_start, content_length);
    buffer_.erase(0, body_start + content_length);
    if (close_after) close_connection();
    return true;
}

Answer HttpClient::request(std::string_view method, std::string_view path, std::string_view body) {
    Answer answer;
    // A kept-alive connection nginx closed meanwhile (reload, worker exit) fails on first use:
    // one retry on a fresh connection is safe only when nothing was answered and the request
    // could not have run, so only a connect failure counts as not sent.
    if (fd_ >= 0) {
        // nginx closes idle kept-alive connections (reload, keepalive_timeout): find out before
        // sending, so that a request is "unknown" only when nginx may really have run it.
        char probe;
        const ssize_t n = ::recv(fd_, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) close_connection();
    }
    if (fd_ < 0 && !connect_once()) {
        answer.outcome = Answer::Outcome::not_sent;
        return answer;
    }
    std::string request;
    request.reserve(256 + body.size());
    request.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if (!body.empty()) {
        request.append("Content-Type: application/json\r\nContent-Length: ").append(std::to_string(body.size()));
        request.append("\r\n");
    }
    request.append("\r\n").append(body);
    if (!send_all(request) || !read_response(answer)) {
        close_connection();
        answer.outcome = Answer::Outcome::unknown;
        return answer;
    }
    answer.outcome = Answer::Outcome::answered;
    return answer;
}

}  // namespace pushsync::soak
