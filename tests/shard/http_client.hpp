#pragma once
// A blocking HTTP/1.1 keep-alive client for 127.0.0.1, for the many requests of the shard tests
// (a curl process per request would take most of their time). Content-Length and chunked bodies.
#include <map>
#include <string>
#include <string_view>

namespace pushsync::test {

struct ClientResponse {
    int status = 0;  // 0: no answer (connection failed or closed)
    std::map<std::string, std::string> headers;  // names in lowercase
    std::string body;
    std::string header(const std::string& name) const;  // "" when absent
};

class HttpClient {
public:
    explicit HttpClient(int port) : port_(port) {}
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // A JSON body is sent with Content-Type: application/json. A kept-alive connection that the
    // server closed while idle is reopened and the request sent once more (it never reached the
    // server); any other failure answers status 0.
    ClientResponse request(std::string_view method, std::string_view path, std::string_view body = {});

private:
    bool connect_once();
    void close_connection() noexcept;
    bool send_all(std::string_view data);
    // false with nothing read when the peer closed before answering.
    bool read_response(ClientResponse& response, bool& nothing_read);
    bool fill();  // reads more into buffer_; false on EOF or error

    int port_;
    int fd_ = -1;
    std::string buffer_;
};

}  // namespace pushsync::test
