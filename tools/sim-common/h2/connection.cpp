// SPDX-License-Identifier: BSD-2-Clause
#include "tools/sim-common/h2/connection.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <iostream>
#include <stdexcept>

#include "tools/sim-common/h2/server.hpp"
#include "tools/sim-common/net/tls_server.hpp"

namespace sim {

namespace {

constexpr std::size_t write_batch = 64 * 1024;

nghttp2_nv header(const std::string& name, const std::string& value) {
    return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                      reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                      NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

H2Stream::~H2Stream() {
    if (delay) ev_timer_stop(conn.loop_, &*delay);
}

H2Connection::H2Connection(H2Server& server, Counters& counters, const H2Config& config, struct ev_loop* loop,
                           SSL_CTX* tls, UniqueFd fd, std::uint64_t id)
    : counters_(counters), config_(config), server_(server), loop_(loop), fd_(std::move(fd)), ssl_(SSL_new(tls)), id_(id) {
    if (!ssl_ || SSL_set_fd(ssl_.get(), fd_.get()) != 1) throw std::runtime_error("SSL_new: " + openssl_error_text());
    SSL_set_accept_state(ssl_.get());
    ev_io_init(&io_, on_io, fd_.get(), EV_READ);
    io_.data = this;
    ev_io_start(loop_, &io_);
    ev_timer_init(&idle_, on_idle, 0.0, config_.idle_timeout_s);
    idle_.data = this;
    if (config_.idle_timeout_s > 0) ev_timer_again(loop_, &idle_);
}

void H2Connection::on_idle(struct ev_loop* loop, ev_timer* w, int) {
    auto* self = static_cast<H2Connection*>(w->data);
    ev_timer_stop(loop, w);
    if (self->closed_) return;
    self->counters_.add("idle_timeouts");
    if (!self->session_) {
        self->close("idle before the HTTP/2 session started");
        return;
    }
    self->goaway(-1, NGHTTP2_NO_ERROR, self->config_.idle_goaway_debug);
}

H2Connection::~H2Connection() {
    ev_io_stop(loop_, &io_);
    ev_timer_stop(loop_, &idle_);
    streams_.clear();  // stops timers while the loop is still valid
}

void H2Connection::on_io(struct ev_loop*, ev_io* w, int revents) {
    auto* self = static_cast<H2Connection*>(w->data);
    if (self->closed_) return;
    if (!self->handshake_done_) {
        self->handshake();
        return;
    }
    if ((revents & EV_READ) && !self->close_after_flush_) {
        self->read_tls();
    } else {
        self->flush();
    }
}

void H2Connection::update_watchers(bool want_write) {
    int events = close_after_flush_ ? 0 : EV_READ;
    if (want_write) events |= EV_WRITE;
    if ((io_.events & (EV_READ | EV_WRITE)) != events) {
        ev_io_stop(loop_, &io_);
        ev_io_set(&io_, fd_.get(), events);
        if (events) ev_io_start(loop_, &io_);
    }
}

void H2Connection::handshake() {
    ERR_clear_error();
    int rc = SSL_do_handshake(ssl_.get());
    if (rc == 1) {
        handshake_done_ = true;
        start_session();
        if (!closed_) read_tls();
        return;
    }
    int err = SSL_get_error(ssl_.get(), rc);
    if (err == SSL_ERROR_WANT_READ) {
        update_watchers(false);
    } else if (err == SSL_ERROR_WANT_WRITE) {
        update_watchers(true);
    } else {
        counters_.add("tls_handshake_failures");
        close("TLS handshake failed: " + openssl_error_text());
    }
}

void H2Connection::start_session() {
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl_.get(), &alpn, &alpn_len);
    alpn_ = alpn ? std::string(reinterpret_cast<const char*>(alpn), alpn_len) : "none (prior knowledge)";
    stream_limit_ = on_session_start();

    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    std::unique_ptr<nghttp2_session_callbacks, decltype(&nghttp2_session_callbacks_del)> cbs_owner(
        cbs, nghttp2_session_callbacks_del);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, cb_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, cb_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cb_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cb_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cb_stream_close);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, cb_invalid_frame);
    nghttp2_session* s = nullptr;
    if (nghttp2_session_server_new(&s, cbs, this) != 0) {
        close("nghttp2_session_server_new failed");
        return;
    }
    session_.reset(s);

    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, 4096},
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, stream_limit_},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, config_.initial_window},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, 16384},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 8000},
    };
    nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, settings, std::size(settings));
    if (!config_.quiet) {
        std::cerr << config_.program << ": conn=" << id_ << " open alpn=" << alpn_ << " tls=" << SSL_get_version(ssl_.get())
                  << describe_open() << " max_streams=" << stream_limit_ << '\n';
    }
}

void H2Connection::read_tls() {
    char buf[16384];
    for (;;) {
        ERR_clear_error();
        int n = SSL_read(ssl_.get(), buf, sizeof buf);
        if (n > 0) {
            if (config_.idle_timeout_s > 0 && !goaway_last_) ev_timer_again(loop_, &idle_);
            ssize_t rv = nghttp2_session_mem_recv(session_.get(), reinterpret_cast<const uint8_t*>(buf), static_cast<size_t>(n));
            if (closed_) return;
            if (rv < 0) {
                if (close_after_flush_) break;  // our own GOAWAY is queued: send it, then close
                close(std::string("HTTP/2 error: ") + nghttp2_strerror(static_cast<int>(rv)));
                return;
            }
            continue;
        }
        int err = SSL_get_error(ssl_.get(), n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
        close(err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
                  ? "closed by peer"
                  : "TLS read failed: " + openssl_error_text());
        return;
    }
    flush();
}

void H2Connection::flush() {
    if (closed_ || in_flush_ || !session_) return;
    in_flush_ = true;
    for (;;) {
        while (out_.size() - out_offset_ < write_batch) {
            const uint8_t* data = nullptr;
            ssize_t n = nghttp2_session_mem_send(session_.get(), &data);
            if (n < 0) {
                in_flush_ = false;
                close(std::string("HTTP/2 send error: ") + nghttp2_strerror(static_cast<int>(n)));
                return;
            }
            if (n == 0) break;
            out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
        }
        if (out_offset_ == out_.size()) break;
        ERR_clear_error();
        int w = SSL_write(ssl_.get(), out_.data() + out_offset_, static_cast<int>(out_.size() - out_offset_));
        if (w > 0) {
            out_offset_ += static_cast<std::size_t>(w);
            if (out_offset_ == out_.size()) {
                out_.clear();
                out_offset_ = 0;
            }
            continue;
        }
        int err = SSL_get_error(ssl_.get(), w);
        in_flush_ = false;
        if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
            update_watchers(true);
            return;
        }
        close("TLS write failed: " + openssl_error_text());
        return;
    }
    out_.clear();
    out_offset_ = 0;
    in_flush_ = false;
    update_watchers(false);
    if (close_after_flush_) {
        close("closed after GOAWAY");
        return;
    }
    maybe_finish_goaway();
    if (!closed_ && !nghttp2_session_want_read(session_.get()) && !nghttp2_session_want_write(session_.get())) {
        close("HTTP/2 session finished");
    }
}

void H2Connection::close(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    ev_io_stop(loop_, &io_);
    ev_timer_stop(loop_, &idle_);
    for (auto& [sid, s] : streams_) {
        if (s->delay) ev_timer_stop(loop_, &*s->delay);
    }
    if (handshake_done_) SSL_shutdown(ssl_.get());
    if (client_goaway_) {
        // A client's graceful close: its GOAWAY came first and none of its streams was left open.
        const bool all_answered = std::all_of(streams_.begin(), streams_.end(),
                                              [](const auto& entry) { return entry.second->answered; });
        counters_.add(all_answered ? "client_graceful_closes" : "client_closes_with_open_streams");
    }
    if (!config_.quiet) std::cerr << config_.program << ": conn=" << id_ << " closed requests=" << requests_ << " why=" << why << '\n';
    server_.retire(id_);  // destroyed before the loop blocks again, outside this call chain
}

void H2Connection::maybe_finish_goaway() {
    if (!goaway_last_ || closed_) return;
    if (nghttp2_session_want_write(session_.get())) return;
    for (const auto& [sid, s] : streams_) {
        if (sid <= *goaway_last_ && !s->answered && !s->silenced) return;
    }
    close("GOAWAY sent and every stream up to " + std::to_string(*goaway_last_) + " answered");
}

void H2Connection::submit_goaway(std::int32_t last_stream_id, std::uint32_t error_code, const std::string& debug) {
    if (!session_) return;
    nghttp2_submit_goaway(session_.get(), NGHTTP2_FLAG_NONE, last_stream_id, error_code,
                          reinterpret_cast<const uint8_t*>(debug.data()), debug.size());
    goaway_last_ = goaway_last_ ? std::min(*goaway_last_, last_stream_id) : last_stream_id;
    counters_.add("goaways_sent");
    if (!config_.quiet) {
        std::cerr << config_.program << ": conn=" << id_ << " GOAWAY last_stream_id=" << last_stream_id << " error=" << error_code
                  << " debug=" << debug << '\n';
    }
}

void H2Connection::goaway(std::int32_t last_stream_id, std::uint32_t error_code, const std::string& debug) {
    if (closed_ || !session_) return;
    submit_goaway(last_stream_id < 0 ? last_stream_seen_ : last_stream_id, error_code, debug);
    flush();
}

void H2Connection::set_stream_limit(std::uint32_t limit) {
    if (limit == stream_limit_) return;
    nghttp2_settings_entry e{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limit};
    nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, &e, 1);
    stream_limit_ = limit;
}

nlohmann::json H2Connection::to_json() const {
    nlohmann::json j = {{"id", id_},
                        {"alpn", alpn_},
                        {"requests", requests_},
                        {"open_streams", streams_.size()},
                        {"max_concurrent_streams", stream_limit_}};
    describe(j);
    if (goaway_last_) j["goaway_last_stream_id"] = *goaway_last_;
    if (client_goaway_) j["client_goaway"] = true;
    return j;
}

// --- requests -------------------------------------------------------------------------------

void H2Connection::handle_request(H2Stream& s) {
    if (goaway_last_ && s.id > *goaway_last_) {
        s.silenced = true;  // above our GOAWAY's last-stream-id: never processed, the client resends
        return;
    }
    ++requests_;
    counters_.add("requests");
    on_request(s);
}

void H2Connection::delay_answer(H2Stream& s, double seconds) {
    s.delay.emplace();
    ev_timer_init(&*s.delay, on_delay, seconds, 0.0);
    s.delay->data = &s;
    ev_timer_start(loop_, &*s.delay);
}

void H2Connection::on_delay(struct ev_loop*, ev_timer* w, int) {
    auto* s = static_cast<H2Stream*>(w->data);
    H2Connection& conn = s->conn;
    if (conn.closed_) return;
    conn.on_delay_done(*s);
    conn.flush();
}

void H2Connection::reset_stream(H2Stream& s, std::uint32_t error_code) {
    nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, s.id, error_code);
    s.answered = true;
}

void H2Connection::respond(H2Stream& s, int status, const ResponseHeaders& headers, std::string body) {
    s.answered = true;
    const std::string status_text = std::to_string(status);
    static const std::string k_status = ":status";
    std::vector<nghttp2_nv> nva = {header(k_status, status_text)};
    for (const auto& [name, value] : headers) nva.push_back(header(name, value));
    if (body.empty()) {
        nghttp2_submit_response(session_.get(), s.id, nva.data(), nva.size(), nullptr);
        return;
    }
    s.response_body = std::move(body);
    nghttp2_data_provider prd;
    prd.source.ptr = &s;
    prd.read_callback = read_body;
    nghttp2_submit_response(session_.get(), s.id, nva.data(), nva.size(), &prd);
}

// --- nghttp2 callbacks ----------------------------------------------------------------------

ssize_t H2Connection::read_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                                nghttp2_data_source* source, void*) {
    auto* s = static_cast<H2Stream*>(source->ptr);
    std::size_t n = std::min(length, s->response_body.size() - s->response_offset);
    std::copy_n(s->response_body.data() + s->response_offset, n, buf);
    s->response_offset += n;
    if (s->response_offset == s->response_body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
}

int H2Connection::cb_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<H2Connection*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    // A careful client waits for the server's SETTINGS (and so ACKs them) before its first request.
    if (!self->settings_acked_) self->counters_.add("streams_before_settings_ack");
    self->streams_.emplace(frame->hd.stream_id, self->new_stream(frame->hd.stream_id));
    self->last_stream_seen_ = std::max(self->last_stream_seen_, frame->hd.stream_id);
    return 0;
}

int H2Connection::cb_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                            const uint8_t* value, size_t valuelen, uint8_t flags, void* user) {
    auto* self = static_cast<H2Connection*>(user);
    auto it = self->streams_.find(frame->hd.stream_id);
    if (it == self->streams_.end()) return 0;
    const std::string_view header_name(reinterpret_cast<const char*>(name), namelen);
    // No push service refuses these, but the HPACK advice (Apple's; RFC 7541 §7.1.3) is that a
    // per-device path and a credential never enter the shared compression table: counted, so tests
    // can hold a client to it.
    if ((header_name == ":path" || header_name == "authorization") && !(flags & NGHTTP2_NV_FLAG_NO_INDEX)) {
        self->counters_.add("sensitive_headers_indexed");
    }
    self->on_header(*it->second, header_name, std::string_view(reinterpret_cast<const char*>(value), valuelen), flags);
    return 0;
}

int H2Connection::cb_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len, void* user) {
    auto* self = static_cast<H2Connection*>(user);
    auto it = self->streams_.find(stream_id);
    if (it == self->streams_.end()) return 0;
    self->on_body(*it->second, data, len);
    return 0;
}

int H2Connection::cb_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<H2Connection*>(user);
    switch (frame->hd.type) {
        case NGHTTP2_HEADERS:
        case NGHTTP2_DATA:
            if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
                auto it = self->streams_.find(frame->hd.stream_id);
                if (it != self->streams_.end() && !it->second->answered && !it->second->silenced) {
                    self->handle_request(*it->second);
                }
            }
            break;
        case NGHTTP2_PING:
            if (!(frame->hd.flags & NGHTTP2_FLAG_ACK)) self->counters_.add("pings");
            break;
        case NGHTTP2_SETTINGS:
            if (frame->hd.flags & NGHTTP2_FLAG_ACK) self->settings_acked_ = true;
            break;
        case NGHTTP2_PRIORITY:
            self->counters_.add("priority_frames");  // APNs asks providers not to send them
            break;
        case NGHTTP2_GOAWAY:
            if (frame->goaway.error_code == NGHTTP2_NO_ERROR) {
                self->client_goaway_ = true;
                self->counters_.add("goaways_received");
            } else {
                self->counters_.add("goaways_received_with_error");
            }
            break;
        default:
            break;
    }
    return 0;
}

int H2Connection::cb_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user) {
    auto* self = static_cast<H2Connection*>(user);
    auto it = self->streams_.find(stream_id);
    if (it == self->streams_.end()) return 0;
    if (error_code != NGHTTP2_NO_ERROR && !it->second->answered) self->counters_.add("streams_reset_by_client");
    self->streams_.erase(it);
    return 0;
}

int H2Connection::cb_invalid_frame(nghttp2_session* session, const nghttp2_frame* frame, int lib_error_code, void* user) {
    auto* self = static_cast<H2Connection*>(user);
    // nghttp2 reports a HEADERS that opens one stream too many as a protocol error; APNs answers it
    // with GOAWAY and a plain-text reason (the simulator's text), then closes.
    if (frame->hd.type == NGHTTP2_HEADERS && lib_error_code == NGHTTP2_ERR_PROTO &&
        frame->hd.stream_id > self->last_stream_seen_ &&
        self->streams_.size() >= nghttp2_session_get_local_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)) {
        self->counters_.add("stream_limit_violations");
        self->submit_goaway(self->last_stream_seen_, NGHTTP2_PROTOCOL_ERROR, self->config_.stream_limit_goaway_debug);
        self->close_after_flush_ = true;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

}  // namespace sim
