#pragma once
// A blocking HTTP/1.1 keep-alive client for the soak's load: one connection per client thread,
// reconnected after any failure. It tells a request that never reached nginx (connect refused:
// nothing happened) from one whose answer was lost (the outcome is unknown).
#include <chrono>
#include <string>
#include <string_view>

namespace pushsync::soak {

struct Answer {
    enum class Outcome { answered, not_sent, unknown };
    Outcome outcome = Outcome::not_sent;
    int status = 0;
    std::string body;
    std::string retry_after;  // the Retry-After header, "" when absent
};

class HttpClient {
public:
    HttpClient(int port, std::chrono::milliseconds timeout) : port_(port), timeout_(timeout) {}
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    Answer request(std::string_view method, std::string_view path, std::string_view body);

private:
    bool connect_once();
    void close_connection();
    bool send_all(std::string_view data);
    // Reads one response; false when the connection failed or timed out first.
    bool read_response(Answer& answer);

    int port_;
    std::chrono::milliseconds timeout_;
    int fd_ = -1;
    std::string buffer_;
};

}  // namespace pushsync::soak
