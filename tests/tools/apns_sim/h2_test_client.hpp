// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A small HTTP/2-over-TLS client for the simulator's tests (nghttp2 client + OpenSSL, one
// connection, driven synchronously with poll). It can misbehave on purpose: ignore the server's
// MAX_CONCURRENT_STREAMS, or offer another ALPN, to test what APNs does to such clients.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pushsync::test {

struct H2ClientConfig {
    int port = 0;
    std::string ca_file;
    std::string cert_file;  // client certificate (certificate auth); empty: none
    std::string key_file;
    std::vector<std::string> alpn{"h2"};
    bool ignore_stream_limit = false;  // rewrite the server's MAX_CONCURRENT_STREAMS to 1000 before nghttp2 sees it
    bool never_index_sensitive = false;  // :path and authorization as HPACK "never indexed", as Apple asks
};

struct H2Response {
    int status = 0;
    std::map<std::string, std::string> headers;
    std::string body;
    bool closed = false;          // the stream ended (answered, reset, or connection gone)
    std::uint32_t rst_error = 0;  // RST_STREAM error code when reset by the server
    bool reset = false;
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

struct GoawayInfo {
    bool received = false;
    std::int32_t last_stream_id = 0;
    std::uint32_t error_code = 0;
    std::string debug;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class H2TestClient {
public:
    // Connects and completes the TLS handshake; throws std::runtime_error on failure.
    explicit H2TestClient(H2ClientConfig config);
    ~H2TestClient();
    H2TestClient(const H2TestClient&) = delete;
    H2TestClient& operator=(const H2TestClient&) = delete;

    // POST path with headers (":method" etc. are added unless given) and body; returns the stream id.
    // hold_body: the stream stays open (body deferred) until release(), to keep a stream slot busy.
    std::int32_t submit(const std::string& path, const Headers& headers, const std::string& body,
                        const std::string& method = "POST", bool hold_body = false);
    void release(std::int32_t stream_id);
    // Runs the connection until pred() holds or timeout; false on timeout.
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    bool wait_closed(std::int32_t stream_id, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        return run_until([&] { return response(stream_id).closed; }, timeout);
    }
    // submit + wait for the stream to end.
    H2Response request(const std::string& path, const Headers& headers, const std::string& body,
                       const std::string& method = "POST");

    const H2Response& response(std::int32_t stream_id) { return responses_[stream_id]; }
    const GoawayInfo& goaway() const noexcept { return goaway_; }
    bool connection_closed() const noexcept { return closed_; }
    bool settings_received() const noexcept { return settings_received_; }
    // The last MAX_CONCURRENT_STREAMS value the server sent (as sent, even when ignored).
    std::uint32_t server_max_streams() const noexcept { return server_max_streams_; }
    std::size_t settings_frames() const noexcept { return settings_frames_; }
    void ping();
    std::size_t ping_acks() const noexcept { return ping_acks_; }
    std::string alpn() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::map<std::int32_t, H2Response> responses_;
    GoawayInfo goaway_;
    bool closed_ = false;
    bool settings_received_ = false;
    std::uint32_t server_max_streams_ = 0;
    std::size_t settings_frames_ = 0;
    std::size_t ping_acks_ = 0;
    friend struct H2TestClientCallbacks;
};

}  // namespace pushsync::test
