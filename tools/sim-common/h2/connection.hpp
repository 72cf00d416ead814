// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One client connection of a simulator: non-blocking TLS, an nghttp2 server session, streams,
// answers, delayed answers, GOAWAY and a graceful close. What a request means is the simulator's:
// it derives from H2Connection (and H2Stream) and implements the hooks.
#include <ev.h>
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tools/sim-common/log/counters.hpp"
#include "tools/sim-common/net/openssl_ptr.hpp"
#include "tools/sim-common/net/unique_fd.hpp"

namespace sim {

class H2Server;
class H2Connection;

struct H2Config {
    std::string program;              // prefix of the event lines on stderr ("apns-sim")
    std::uint32_t initial_window = 65535;
    double idle_timeout_s = 0;        // GOAWAY NO_ERROR with idle_goaway_debug after this long without a frame; 0 = never
    std::string idle_goaway_debug;
    std::string stream_limit_goaway_debug = "too many concurrent streams";  // GOAWAY PROTOCOL_ERROR text
    bool quiet = false;               // no per-connection event lines on stderr
};

// The transport state of one stream; a simulator derives its request and log fields.
struct H2Stream {
    H2Stream(H2Connection& c, std::int32_t stream_id) : conn(c), id(stream_id) {}
    virtual ~H2Stream();
    H2Stream(const H2Stream&) = delete;
    H2Stream& operator=(const H2Stream&) = delete;
    H2Connection& conn;
    std::int32_t id;
    std::string response_body;
    std::size_t response_offset = 0;
    bool answered = false;  // a response or RST_STREAM was submitted
    bool silenced = false;  // deliberately never answered (fault, or above a GOAWAY's last id)
    std::optional<ev_timer> delay;  // a delayed answer's timer
};

using ResponseHeaders = std::vector<std::pair<std::string, std::string>>;

class H2Connection {
public:
    H2Connection(H2Server& server, Counters& counters, const H2Config& config, struct ev_loop* loop, SSL_CTX* tls,
                 UniqueFd fd, std::uint64_t id);
    virtual ~H2Connection();
    H2Connection(const H2Connection&) = delete;
    H2Connection& operator=(const H2Connection&) = delete;

    nlohmann::json to_json() const;
    // The socket, for the server to close gracefully (lingering_close.hpp) once this is retired.
    UniqueFd release_socket() noexcept { return std::move(fd_); }
    // Sends GOAWAY and closes once every stream up to last_stream_id has been answered;
    // last_stream_id < 0: the last stream received.
    void goaway(std::int32_t last_stream_id, std::uint32_t error_code, const std::string& debug);

protected:
    // --- hooks ---------------------------------------------------------------------------------
    virtual std::unique_ptr<H2Stream> new_stream(std::int32_t id) = 0;
    // After the TLS handshake, before the server's SETTINGS: the MAX_CONCURRENT_STREAMS to announce.
    virtual std::uint32_t on_session_start() = 0;
    virtual void on_header(H2Stream& s, std::string_view name, std::string_view value, std::uint8_t flags) = 0;
    // Request body bytes as they come (the simulator decides how much it keeps).
    virtual void on_body(H2Stream& s, const std::uint8_t* data, std::size_t len) = 0;
    // The request is complete (END_STREAM) and at or below any GOAWAY's last stream id.
    virtual void on_request(H2Stream& s) = 0;
    // A delay started with delay_answer() ran out.
    virtual void on_delay_done(H2Stream& s) = 0;
    // Words for the "open" event line and fields for GET /connections.
    virtual std::string describe_open() const { return ""; }
    virtual void describe(nlohmann::json&) const {}

    // --- for the simulator ---------------------------------------------------------------------
    // Submits :status, headers and (when not empty) a body; marks the stream answered.
    void respond(H2Stream& s, int status, const ResponseHeaders& headers, std::string body);
    void reset_stream(H2Stream& s, std::uint32_t error_code);
    void delay_answer(H2Stream& s, double seconds);
    void submit_goaway(std::int32_t last_stream_id, std::uint32_t error_code, const std::string& debug);
    void set_stream_limit(std::uint32_t limit);
    SSL* ssl() const noexcept { return ssl_.get(); }
    nghttp2_session* session() const noexcept { return session_.get(); }
    std::uint64_t id() const noexcept { return id_; }

    Counters& counters_;
    const H2Config& config_;

private:
    static void on_io(struct ev_loop* loop, ev_io* w, int revents);
    static void on_delay(struct ev_loop* loop, ev_timer* w, int revents);
    static void on_idle(struct ev_loop* loop, ev_timer* w, int revents);

    void handshake();
    void start_session();
    void read_tls();
    void flush();
    void close(const std::string& why);
    void update_watchers(bool want_write);
    void maybe_finish_goaway();
    void handle_request(H2Stream& s);

    // nghttp2 callbacks
    static int cb_begin_headers(nghttp2_session*, const nghttp2_frame*, void*);
    static int cb_header(nghttp2_session*, const nghttp2_frame*, const uint8_t*, size_t, const uint8_t*, size_t, uint8_t, void*);
    static int cb_data_chunk(nghttp2_session*, uint8_t, int32_t, const uint8_t*, size_t, void*);
    static int cb_frame_recv(nghttp2_session*, const nghttp2_frame*, void*);
    static int cb_stream_close(nghttp2_session*, int32_t, uint32_t, void*);
    static int cb_invalid_frame(nghttp2_session*, const nghttp2_frame*, int, void*);
    static ssize_t read_body(nghttp2_session*, int32_t, uint8_t*, size_t, uint32_t*, nghttp2_data_source*, void*);

    friend struct H2Stream;

    H2Server& server_;
    struct ev_loop* loop_;
    UniqueFd fd_;
    SslPtr ssl_;
    std::uint64_t id_;
    ev_io io_;
    ev_timer idle_;  // reset by every read
    bool handshake_done_ = false;
    bool closed_ = false;
    bool in_flush_ = false;
    std::unique_ptr<nghttp2_session, decltype(&nghttp2_session_del)> session_{nullptr, nghttp2_session_del};
    std::unordered_map<std::int32_t, std::unique_ptr<H2Stream>> streams_;
    std::string out_;
    std::size_t out_offset_ = 0;
    std::uint32_t stream_limit_ = 0;
    std::optional<std::int32_t> goaway_last_;  // set once we sent GOAWAY: closing
    bool client_goaway_ = false;               // the client said GOAWAY NO_ERROR: it is leaving
    bool close_after_flush_ = false;
    std::int32_t last_stream_seen_ = 0;
    bool settings_acked_ = false;
    std::uint64_t requests_ = 0;
    std::string alpn_;
};

}  // namespace sim
