// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One client connection: non-blocking TLS, an nghttp2 server session, and the APNs semantics of
// each stream (validation, authentication, registry, faults, log).
#include <ev.h>
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth/connection_auth.hpp"
#include "net/openssl_ptr.hpp"
#include "requests/log.hpp"
#include "requests/validation.hpp"
#include "simulator.hpp"
#include "net/unique_fd.hpp"

namespace apns_sim {

class ApnsServer;

class H2Connection {
public:
    H2Connection(ApnsServer& server, Simulator& sim, struct ev_loop* loop, SSL_CTX* tls, UniqueFd fd, std::uint64_t id);
    ~H2Connection();
    H2Connection(const H2Connection&) = delete;
    H2Connection& operator=(const H2Connection&) = delete;

    nlohmann::json to_json() const;
    // The socket, for the server to close gracefully (lingering_close.hpp) once this is retired.
    UniqueFd release_socket() noexcept { return std::move(fd_); }
    // Sends GOAWAY and closes once every stream up to last_stream_id has been answered.
    void goaway(std::int32_t last_stream_id, std::uint32_t error_code, const std::string& debug);

private:
    struct Stream {
        Stream(H2Connection& c, std::int32_t stream_id) : conn(c), id(stream_id) {}
        ~Stream();
        H2Connection& conn;
        std::int32_t id;
        Request request;
        std::string response_body;
        std::size_t response_offset = 0;
        bool answered = false;  // a response or RST_STREAM was submitted
        bool silenced = false;  // deliberately never answered (fault, or above a GOAWAY's last id)
        LogEntry entry;
        std::optional<ev_timer> delay;  // a "delay" fault's pending answer
    };

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

    void handle_request(Stream& s);
    void respond(Stream& s, int status, const std::string& reason, std::int64_t timestamp_ms);
    void respond_ok(Stream& s) { respond(s, 200, "", -1); }
    void finish_log(Stream& s, int status, const std::string& reason);
    void set_stream_limit(std::uint32_t limit);
    void submit_goaway(std::int32_t last_stream_id, std::uint32_t error_code, const std::string& debug);

    // nghttp2 callbacks
    static int on_begin_headers(nghttp2_session*, const nghttp2_frame*, void*);
    static int on_header(nghttp2_session*, const nghttp2_frame*, const uint8_t*, size_t, const uint8_t*, size_t, uint8_t, void*);
    static int on_data_chunk(nghttp2_session*, uint8_t, int32_t, const uint8_t*, size_t, void*);
    static int on_frame_recv(nghttp2_session*, const nghttp2_frame*, void*);
    static int on_stream_close(nghttp2_session*, int32_t, uint32_t, void*);
    static int on_invalid_frame(nghttp2_session*, const nghttp2_frame*, int, void*);
    static ssize_t read_body(nghttp2_session*, int32_t, uint8_t*, size_t, uint32_t*, nghttp2_data_source*, void*);

    ApnsServer& server_;
    Simulator& sim_;
    struct ev_loop* loop_;
    UniqueFd fd_;
    SslPtr ssl_;
    std::uint64_t id_;
    ev_io io_;
    ev_timer idle_;  // --idle-timeout: reset by every read
    bool handshake_done_ = false;
    bool closed_ = false;
    bool in_flush_ = false;
    std::unique_ptr<nghttp2_session, decltype(&nghttp2_session_del)> session_{nullptr, nghttp2_session_del};
    std::unique_ptr<ConnectionAuth> auth_;
    std::unordered_map<std::int32_t, std::unique_ptr<Stream>> streams_;
    std::string out_;
    std::size_t out_offset_ = 0;
    std::uint32_t stream_limit_ = 0;
    bool limit_dropped_ = false;
    std::optional<std::int32_t> goaway_last_;  // set once we sent GOAWAY: closing
    bool client_goaway_ = false;               // the client said GOAWAY NO_ERROR: it is leaving
    bool close_after_flush_ = false;
    std::int32_t last_stream_seen_ = 0;
    bool settings_acked_ = false;
    std::uint64_t requests_ = 0;
    std::string alpn_;
};

}  // namespace apns_sim
