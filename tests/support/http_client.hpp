// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A blocking HTTP/1.1 keep-alive client for 127.0.0.1, for tests that make many requests (a curl
// process per request would take most of their time): one connection, reopened after any failure;
// Content-Length and chunked bodies. It tells a request that never reached the server from one
// whose answer was lost, whose outcome is unknown.
#include <chrono>
#include <map>
#include <string>
#include <string_view>

namespace pushsync::test {

struct HttpAnswer {
    enum class Outcome { answered, not_sent, unknown };
    Outcome outcome = Outcome::not_sent;
    int status = 0;                               // 0 unless answered
    std::map<std::string, std::string> headers;  // names in lowercase
    std::string body;
    std::string header(std::string_view name) const;  // "" when absent
};

class HttpClient {
public:
    // What a kept-alive connection closed before any byte of the answer means. nginx closes idle
    // ones at reload or keepalive_timeout, racing a request just sent: `resend` sends it once more
    // on a new connection, as browsers do (right where no process is killed mid-request);
    // `unknown` reports it (the soak, whose killed workers also close connections unanswered).
    enum class OnUnansweredClose { resend, unknown };

    explicit HttpClient(int port, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                        OnUnansweredClose on_close = OnUnansweredClose::resend)
        : port_(port), timeout_(timeout), on_close_(on_close) {}
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // A JSON body is sent with Content-Type: application/json. Any other failure after the send
    // is `unknown`: the server may have run the request.
    HttpAnswer request(std::string_view method, std::string_view path, std::string_view body = {});

private:
    bool connect_once();
    void close_connection() noexcept;
    bool send_all(std::string_view data);
    bool fill();  // reads more into buffer_; false on EOF, error or timeout
    bool read_response(HttpAnswer& answer, bool& nothing_read);

    int port_;
    std::chrono::milliseconds timeout_;
    OnUnansweredClose on_close_;
    int fd_ = -1;
    std::string buffer_;
};

}  // namespace pushsync::test
