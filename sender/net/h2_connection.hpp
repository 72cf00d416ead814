// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One HTTP/2 connection to a push service (APNs, FCM, a Web Push service): non-blocking TCP,
// OpenSSL TLS and an nghttp2 client session, driven by libev watchers. It knows streams, not
// pushes: a platform's client (sender/apns/client.hpp, …) decides what to send where, and hears
// back through ConnectionOwner.
#include <ev.h>
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sender/net/resolver.hpp"
#include "sender/net/transport_log.hpp"

struct ssl_st;

namespace pushsync::sender {

class TlsContext;
class H2Connection;

struct Endpoint {
    std::string host;
    std::string port;
    std::string authority;  // :authority, host[:port]
};
// "https://host[:port]" (port 443 by default); throws std::runtime_error on anything else.
Endpoint parse_endpoint(const std::string& url);

// How one stream ended.
struct StreamResult {
    int status = 0;  // 0: no response headers came
    // The response headers a client needs (at most 64 bytes each): APNs' apns-id, and the
    // retry-after of FCM's and Web Push services' 429 and 503 answers (seconds).
    std::string apns_id;
    std::string retry_after;
    std::string body;
    std::uint32_t error_code = 0;  // RST_STREAM / close code when not NO_ERROR
    bool request_sent = false;     // our HEADERS left; false: the server never saw it
    bool refused = false;          // REFUSED_STREAM or above GOAWAY's last-stream-id: unprocessed
    bool connection_lost = false;  // the connection closed before an answer
};

// How a connection is set up. The defaults are production's; tests shorten or replace them.
struct ConnectOptions {
    double timeout_s = 20;  // lookup + TCP + TLS + the first SETTINGS (apns2 dials for 20 s)
    LookupFunction lookup = lookup_with_getaddrinfo;  // names only: IP literals never reach it
    std::string service = "apns";  // the log lines' first word: "apns conn=3 host:443 …"
};

class ConnectionOwner {
public:
    // The server's first SETTINGS arrived, or a stream slot opened: streams may be opened now.
    virtual void on_connection_ready(H2Connection& connection) = 0;
    virtual void on_stream_result(H2Connection& connection, std::uint64_t tag, StreamResult result) = 0;
    // The server sent GOAWAY: no new streams here; the connection closes once its streams end.
    virtual void on_goaway(H2Connection& connection) = 0;
    // The connection is gone; every open stream was reported before. The owner must not destroy
    // the connection inside this call (the connection may still be on the stack).
    virtual void on_connection_closed(H2Connection& connection, const std::string& why) = 0;
    // Last call of every libev callback of the connection: deliver, dispatch, flush.
    virtual void after_event() = 0;

protected:
    ~ConnectionOwner() = default;
};

class H2Connection {
public:
    H2Connection(struct ev_loop* loop, const Endpoint& endpoint, const TlsContext& tls, ConnectionOwner& owner,
                   const TransportLogger& log, std::uint64_t id, double ping_interval_s, ConnectOptions options = {});
    ~H2Connection();  // closes without reporting anything
    H2Connection(const H2Connection&) = delete;
    H2Connection& operator=(const H2Connection&) = delete;

    // Starts resolving (a name, on a thread) or connecting (an IP literal). On failure returns
    // false with `why` set and nothing reported; a later failure, a lookup's too, ends in close().
    bool start(std::string& why);

    std::uint64_t id() const noexcept { return id_; }
    bool ready() const noexcept { return state_ == State::ready; }
    bool closed() const noexcept { return state_ == State::closed; }
    bool draining() const noexcept { return draining_; }
    bool can_open_stream() const noexcept;
    std::size_t free_stream_slots() const noexcept;
    std::size_t open_streams() const noexcept { return streams_.size(); }
    std::uint32_t remote_max_streams() const noexcept;

    // Opens a stream carrying `headers` and `body`; returns its id, or 0 when the session refuses
    // (stream ids exhausted, GOAWAY): then the connection drains and the caller sends elsewhere.
    std::int32_t submit(std::uint64_t tag, const std::vector<nghttp2_nv>& headers, std::string body);
    // RST_STREAM(CANCEL); the stream is forgotten, nothing is reported for it. Like begin_drain,
    // takes effect at the next flush().
    void cancel(std::int32_t stream_id);
    // No new streams; close once the open ones end (sending GOAWAY). Safe inside nghttp2
    // callbacks: the closing happens in flush().
    void begin_drain(const std::string& why);
    // Close now; open streams are reported as lost (or refused if they never left).
    void close(const std::string& why);
    // Writes what the session has queued, as far as the socket takes it.
    void flush();

private:
    enum class State { idle, resolving, connecting, handshaking, awaiting_settings, ready, closed };
    struct Stream {
        std::uint64_t tag = 0;
        std::string body_out;
        std::size_t body_sent = 0;
        StreamResult result;
    };
    struct SslFree {
        void operator()(ssl_st* ssl) const noexcept;
    };
    struct SessionFree {
        void operator()(nghttp2_session* session) const noexcept { nghttp2_session_del(session); }
    };

    static void on_io(struct ev_loop* loop, ev_io* watcher, int events) noexcept;
    static void on_setup_timeout(struct ev_loop* loop, ev_timer* watcher, int events) noexcept;
    static void on_ping_timer(struct ev_loop* loop, ev_timer* watcher, int events) noexcept;

    static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* self) noexcept;
    static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* self) noexcept;
    static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                         const uint8_t* value, size_t valuelen, uint8_t flags, void* self) noexcept;
    static int on_data_chunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data, size_t len,
                             void* self) noexcept;
    static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* self) noexcept;
    static ssize_t read_body(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length, uint32_t* data_flags,
                             nghttp2_data_source* source, void* self) noexcept;

    // What a guarded C callback (sender/c_callback.hpp) reports when an exception escaped it.
    auto callback_failed(const char* callback) noexcept {
        return [this, callback](const std::string& what) { report_callback_failure(callback, what); };
    }
    void report_callback_failure(const char* callback, const std::string& what) const;

    void on_resolved(Resolution resolution);
    bool connect_to(Resolution resolution, std::string& why);
    bool try_next_address(std::string& why);
    void handle_io(int events);
    void continue_connect();
    void continue_handshake();
    bool start_session(std::string& why);
    void read_tls();
    void write_tls();
    void watch(int events);
    void close_if_done();
    void report(std::int32_t stream_id, Stream& stream);
    std::string name() const;  // "apns conn=3 api.push.apple.com:443", for log lines

    struct ev_loop* loop_;
    Endpoint endpoint_;
    const TlsContext& tls_;
    ConnectionOwner& owner_;
    const TransportLogger& log_;
    std::uint64_t id_;
    double ping_interval_s_;
    double connect_timeout_s_;
    std::string service_;

    State state_ = State::idle;
    bool draining_ = false;
    bool goaway_received_ = false;
    std::int32_t goaway_last_stream_id_ = 0;
    bool ping_outstanding_ = false;
    ev_tstamp last_read_ = 0;

    std::vector<std::vector<unsigned char>> addresses_;  // sockaddr bytes, tried in order
    std::size_t next_address_ = 0;
    int fd_ = -1;
    std::unique_ptr<ssl_st, SslFree> ssl_;
    std::unique_ptr<nghttp2_session, SessionFree> session_;
    std::string out_;  // serialized frames not yet taken by SSL_write
    std::size_t out_sent_ = 0;

    ev_io io_{};
    int io_events_ = 0;
    ev_timer setup_timer_{};  // resolving, connecting and handshaking: the connect timeout
    ev_timer ping_timer_{};

    std::unordered_map<std::int32_t, std::unique_ptr<Stream>> streams_;
    Resolver resolver_;
};

}  // namespace pushsync::sender
