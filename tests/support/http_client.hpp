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
    explicit HttpClient(int port, std::chrono::milliseconds timeout = std::chrono::seconds(30))
        : port_(port), timeout_(timeout) {}
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // A JSON body is sent with Content-Type: application/json. Never retried: after a send, a
    // failure is `unknown`, since the server may have run the request.
    HttpAnswer request(std::string_view method, std::string_view path, std::string_view body = {});

private:
    bool connect_once();
    void close_connection() noexcept;
    bool send_all(std::string_view data);
    bool fill();  // reads more into buffer_; false on EOF, error or timeout
    bool read_response(HttpAnswer& answer);

    int port_;
    std::chrono::milliseconds timeout_;
    int fd_ = -1;
    std::string buffer_;
};

}  // namespace pushsync::test
