// SPDX-License-Identifier: BSD-2-Clause
#include "sender/net/h2_connection.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "sender/c_callback.hpp"
#include "sender/net/tls_context.hpp"
#include "shared/log_escape.hpp"

namespace pushsync::sender {

namespace {

constexpr std::size_t max_body_bytes = 64 * 1024;  // APNs and FCM answers are a few hundred bytes
constexpr std::size_t write_batch_bytes = 64 * 1024;
constexpr std::int32_t local_window = 1 << 24;

std::string describe_goaway(const nghttp2_goaway& goaway) {
    std::string text = "last-stream-id=" + std::to_string(goaway.last_stream_id) +
                       " error=" + nghttp2_http2_strerror(goaway.error_code);
    if (goaway.opaque_data_len > 0) {
        text += " debug=";
        text += log_value(std::string_view(reinterpret_cast<const char*>(goaway.opaque_data), goaway.opaque_data_len));
    }
    return text;
}


}  // namespace

Endpoint parse_endpoint(const std::string& url) {
    static constexpr std::string_view scheme = "https://";
    if (url.compare(0, scheme.size(), scheme) != 0) throw std::runtime_error("URL must start with https://: " + url);
    std::string rest = url.substr(scheme.size());
    if (auto slash = rest.find('/'); slash != std::string::npos) {
        if (rest.substr(slash) != "/") throw std::runtime_error("URL must not have a path: " + url);
        rest.resize(slash);
    }
    Endpoint endpoint;
    std::string port_text;
    if (!rest.empty() && rest[0] == '[') {  // [IPv6]:port
        auto close = rest.find(']');
        if (close == std::string::npos) throw std::runtime_error("bad IPv6 literal in URL: " + url);
        endpoint.host = rest.substr(1, close - 1);
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':') throw std::runtime_error("bad URL: " + url);
            port_text = rest.substr(close + 2);
        }
    } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
        endpoint.host = rest.substr(0, colon);
        port_text = rest.substr(colon + 1);
    } else {
        endpoint.host = rest;
    }
    if (endpoint.host.empty()) throw std::runtime_error("URL has no host: " + url);
    if (port_text.empty()) port_text = "443";
    if (port_text.find_first_not_of("0123456789") != std::string::npos || port_text.size() > 5 ||
        std::stoi(port_text) == 0 || std::stoi(port_text) > 65535) {
        throw std::runtime_error("bad port in URL: " + url);
    }
    endpoint.port = port_text;
    endpoint.authority = rest;
    return endpoint;
}

void H2Connection::SslFree::operator()(ssl_st* ssl) const noexcept { SSL_free(ssl); }

H2Connection::H2Connection(struct ev_loop* loop, const Endpoint& endpoint, const TlsContext& tls,
                               ConnectionOwner& owner, const TransportLogger& log, std::uint64_t id, double ping_interval_s,
                               ConnectOptions options)
    : loop_(loop), endpoint_(endpoint), tls_(tls), owner_(owner), log_(log), id_(id),
      ping_interval_s_(ping_interval_s), connect_timeout_s_(options.timeout_s), service_(std::move(options.service)),
      resolver_(loop, std::move(options.lookup),
                [this](const std::string& what) { report_callback_failure("on_resolved", what); }) {
    ev_init(&io_, on_io);
    io_.data = this;
    ev_init(&setup_timer_, on_setup_timeout);
    setup_timer_.data = this;
    ev_init(&ping_timer_, on_ping_timer);
    ping_timer_.data = this;
}

std::string H2Connection::name() const {
    return service_ + " conn=" + std::to_string(id_) + " " + endpoint_.authority;
}

H2Connection::~H2Connection() {
    resolver_.cancel();
    ev_io_stop(loop_, &io_);
    ev_timer_stop(loop_, &setup_timer_);
    ev_timer_stop(loop_, &ping_timer_);
    session_.reset();
    ssl_.reset();
    if (fd_ >= 0) ::close(fd_);
}

bool H2Connection::start(std::string& why) {
    // A fresh lookup for every connection, as Apple asks; off the loop thread, because a slow DNS
    // server would stall every other connection. The connect timeout runs from here, so a lookup
    // that never ends fails like a server that never answers.
    state_ = State::resolving;
    ev_timer_set(&setup_timer_, connect_timeout_s_, 0);
    ev_timer_start(loop_, &setup_timer_);
    std::optional<Resolution> at_once;
    try {
        at_once = resolver_.resolve(endpoint_.host, endpoint_.port,
                                    [this](Resolution resolution) { on_resolved(std::move(resolution)); });
    } catch (const std::system_error& e) {
        why = "cannot resolve " + endpoint_.host + ": no lookup thread: " + e.what();
        return false;
    }
    if (!at_once) return true;
    return connect_to(std::move(*at_once), why);
}

void H2Connection::on_resolved(Resolution resolution) {
    ConnectionOwner& owner = owner_;
    if (resolution.error.empty()) {
        log_.debug(name() + " resolved " + endpoint_.host + ": " +
                   std::to_string(resolution.addresses.size()) + " addresses");
    }
    std::string why;
    if (!connect_to(std::move(resolution), why)) close(why);
    owner.after_event();  // last: the owner may close this connection in there
}

bool H2Connection::connect_to(Resolution resolution, std::string& why) {
    if (!resolution.error.empty()) {
        why = "cannot resolve " + endpoint_.host + ": " + resolution.error;
        return false;
    }
    addresses_ = std::move(resolution.addresses);
    next_address_ = 0;
    state_ = State::connecting;
    return try_next_address(why);
}

bool H2Connection::try_next_address(std::string& why) {
    while (next_address_ < addresses_.size()) {
        const auto& address = addresses_[next_address_++];
        if (fd_ >= 0) {
            ev_io_stop(loop_, &io_);
            io_events_ = 0;
            ::close(fd_);
            fd_ = -1;
        }
        auto* sa = reinterpret_cast<const sockaddr*>(address.data());
        fd_ = ::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd_ < 0) {
            why = std::string("socket: ") + std::strerror(errno);
            continue;
        }
        int one = 1;
        setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // small frames, latency matters
        if (::connect(fd_, sa, static_cast<socklen_t>(address.size())) == 0 || errno == EINPROGRESS) {
            watch(EV_WRITE);
            return true;
        }
        why = "connect " + endpoint_.authority + ": " + std::strerror(errno);
    }
    if (why.empty()) why = "no address for " + endpoint_.host;
    return false;
}

void H2Connection::watch(int events) {
    if (fd_ < 0 || events == io_events_) return;
    ev_io_stop(loop_, &io_);
    io_events_ = events;
    if (events == 0) return;
    ev_io_set(&io_, fd_, events);
    ev_io_start(loop_, &io_);
}

void H2Connection::on_io(struct ev_loop* loop, ev_io* watcher, int events) noexcept {
    auto* self = static_cast<H2Connection*>(watcher->data);
    guard_ev(
        loop,
        [&] {
            ConnectionOwner& owner = self->owner_;
            self->handle_io(events);
            owner.after_event();  // last: the owner may close this connection in there
        },
        self->callback_failed("on_io"));
}

void H2Connection::handle_io(int events) {
    switch (state_) {
        case State::connecting:
            continue_connect();
            break;
        case State::handshaking:
            continue_handshake();
            break;
        case State::awaiting_settings:
        case State::ready:
            if (events & EV_READ) read_tls();
            if (state_ != State::closed) flush();
            break;
        default:
            break;
    }
}

void H2Connection::continue_connect() {
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
        std::string why = "connect " + endpoint_.authority + ": " + std::strerror(error);
        if (!try_next_address(why)) close(why);
        return;
    }
    try {
        ssl_.reset(tls_.new_ssl(endpoint_.host, fd_));
    } catch (const std::exception& e) {
        close(e.what());
        return;
    }
    state_ = State::handshaking;
    continue_handshake();
}

void H2Connection::continue_handshake() {
    ERR_clear_error();
    int rc = SSL_do_handshake(ssl_.get());
    if (rc != 1) {
        int error = SSL_get_error(ssl_.get(), rc);
        if (error == SSL_ERROR_WANT_READ) return watch(EV_READ);
        if (error == SSL_ERROR_WANT_WRITE) return watch(EV_WRITE);
        std::string why = "TLS handshake failed: " + openssl_error_text();
        long verify = SSL_get_verify_result(ssl_.get());
        if (verify != X509_V_OK) why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
        return close(why);
    }
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl_.get(), &alpn, &alpn_len);
    if (alpn_len != 2 || std::memcmp(alpn, "h2", 2) != 0) return close("server did not select ALPN h2");
    std::string why;
    if (!start_session(why)) return close(why);
    state_ = State::awaiting_settings;
    watch(EV_READ);
    flush();
}

bool H2Connection::start_session(std::string& why) {
    nghttp2_session_callbacks* callbacks = nullptr;
    if (nghttp2_session_callbacks_new(&callbacks) != 0) {
        why = "out of memory";
        return false;
    }
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, on_frame_send);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
    nghttp2_session* session = nullptr;
    int rc = nghttp2_session_client_new(&session, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    if (rc != 0) {
        why = std::string("nghttp2: ") + nghttp2_strerror(rc);
        return false;
    }
    session_.reset(session);
    // No server push; a large receive window so answers never wait for our WINDOW_UPDATEs.
    // Requests go without priority information (nullptr pri_spec): APNs wants no PRIORITY frames,
    // and no other service needs them.
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(local_window)},
    };
    rc = nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    if (rc == 0) rc = nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0, local_window);
    if (rc != 0) {
        why = std::string("nghttp2: ") + nghttp2_strerror(rc);
        return false;
    }
    last_read_ = ev_now(loop_);
    return true;
}

void H2Connection::read_tls() {
    unsigned char buf[16384];
    for (;;) {
        ERR_clear_error();
        int n = SSL_read(ssl_.get(), buf, sizeof buf);
        if (n <= 0) {
            int error = SSL_get_error(ssl_.get(), n);
            if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
            if (error == SSL_ERROR_ZERO_RETURN) return close("server closed the connection");
            std::string why = error == SSL_ERROR_SYSCALL
                                  ? std::string("connection lost: ") + (errno ? std::strerror(errno) : "EOF")
                                  : "TLS error: " + openssl_error_text();
            return close(why);
        }
        last_read_ = ev_now(loop_);
        ping_outstanding_ = false;  // the peer is alive, whatever it sent
        ssize_t used = nghttp2_session_mem_recv(session_.get(), buf, static_cast<size_t>(n));
        if (used < 0) return close(std::string("HTTP/2 protocol error: ") + nghttp2_strerror(static_cast<int>(used)));
        if (state_ == State::closed) return;
    }
}

void H2Connection::flush() {
    if (!session_ || state_ == State::closed) return;
    for (;;) {
        if (out_sent_ == out_.size()) {
            out_.clear();
            out_sent_ = 0;
            // Batch frames into one TLS write: one record and one syscall for many pushes.
            while (out_.size() < write_batch_bytes) {
                const uint8_t* data = nullptr;
                ssize_t n = nghttp2_session_mem_send(session_.get(), &data);
                if (n < 0) return close(std::string("HTTP/2 send error: ") + nghttp2_strerror(static_cast<int>(n)));
                if (n == 0) break;
                out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
            }
            if (out_.empty()) break;
        }
        ERR_clear_error();
        int n = SSL_write(ssl_.get(), out_.data() + out_sent_, static_cast<int>(out_.size() - out_sent_));
        if (n <= 0) {
            int error = SSL_get_error(ssl_.get(), n);
            if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
                watch(EV_READ | EV_WRITE);
                return;
            }
            return close(error == SSL_ERROR_SYSCALL ? std::string("connection lost: ") + std::strerror(errno)
                                                    : "TLS write error: " + openssl_error_text());
        }
        out_sent_ += static_cast<std::size_t>(n);
    }
    watch(EV_READ);
    close_if_done();
}

void H2Connection::close_if_done() {
    if (state_ == State::closed || !session_) return;
    if (draining_ && streams_.empty() && !goaway_received_) {
        // Our own drain: say goodbye properly once, then wait for the session to have nothing left.
        goaway_received_ = true;  // no more GOAWAY of ours
        nghttp2_session_terminate_session(session_.get(), NGHTTP2_NO_ERROR);
        flush();
        if (state_ == State::closed) return;
    }
    if (!nghttp2_session_want_read(session_.get()) && !nghttp2_session_want_write(session_.get()) &&
        out_sent_ == out_.size()) {
        close(draining_ ? "drained" : "session ended");
    }
}

bool H2Connection::can_open_stream() const noexcept { return free_stream_slots() > 0; }

std::uint32_t H2Connection::remote_max_streams() const noexcept {
    if (!session_) return 0;
    return nghttp2_session_get_remote_settings(session_.get(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

std::size_t H2Connection::free_stream_slots() const noexcept {
    if (state_ != State::ready || draining_) return 0;
    std::size_t max = remote_max_streams();
    return max > streams_.size() ? max - streams_.size() : 0;
}

std::int32_t H2Connection::submit(std::uint64_t tag, const std::vector<nghttp2_nv>& headers, std::string body) {
    if (!can_open_stream()) return 0;
    auto stream = std::make_unique<Stream>();
    stream->tag = tag;
    stream->body_out = std::move(body);
    nghttp2_data_provider provider{};
    provider.read_callback = read_body;
    std::int32_t stream_id =
        nghttp2_submit_request(session_.get(), nullptr, headers.data(), headers.size(), &provider, nullptr);
    if (stream_id < 0) {
        begin_drain(std::string("cannot open a stream: ") + nghttp2_strerror(stream_id));
        return 0;
    }
    streams_.emplace(stream_id, std::move(stream));
    return stream_id;
}

void H2Connection::cancel(std::int32_t stream_id) {
    auto it = streams_.find(stream_id);
    if (it == streams_.end()) return;
    // Forgotten first: read_body then ends a body not yet sent and on_stream_close ignores it.
    streams_.erase(it);
    if (session_) nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
    // The next flush() sends the RST_STREAM and closes a drained connection.
}

void H2Connection::begin_drain(const std::string& why) {
    if (draining_ || state_ == State::closed) return;
    draining_ = true;
    log_.info(name() + " draining: " + why + " (" + std::to_string(streams_.size()) +
              " streams open)");
    if (!session_) return close(why);
    // Not closed here: this may run inside an nghttp2 callback (a 503 answer). The next flush()
    // (every event ends with one) closes the connection once its streams are done.
}

void H2Connection::close(const std::string& why) {
    if (state_ == State::closed) return;
    bool was_ready = state_ == State::ready;
    state_ = State::closed;
    resolver_.cancel();
    ev_io_stop(loop_, &io_);
    io_events_ = 0;
    ev_timer_stop(loop_, &setup_timer_);
    ev_timer_stop(loop_, &ping_timer_);
    if (ssl_ && was_ready) SSL_shutdown(ssl_.get());  // best effort close_notify; never waits
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    auto streams = std::move(streams_);
    streams_.clear();
    for (auto& [stream_id, stream] : streams) {
        stream->result.connection_lost = true;
        if (goaway_received_ && goaway_last_stream_id_ > 0 && stream_id > goaway_last_stream_id_) {
            stream->result.refused = true;
        }
        owner_.on_stream_result(*this, stream->tag, std::move(stream->result));
    }
    session_.reset();  // after the loop: nothing of nghttp2's may call back into a half-closed us
    log_.info(name() + " closed: " + why);
    owner_.on_connection_closed(*this, why);
}

void H2Connection::report_callback_failure(const char* callback, const std::string& what) const {
    log_.error(name() + " callback " + callback + " failed: " + what);
}

void H2Connection::on_setup_timeout(struct ev_loop* loop, ev_timer* watcher, int) noexcept {
    auto* self = static_cast<H2Connection*>(watcher->data);
    guard_ev(
        loop,
        [&] {
            ConnectionOwner& owner = self->owner_;
            self->close(self->state_ == State::resolving ? "cannot resolve " + self->endpoint_.host + ": timed out"
                                                         : "no HTTP/2 SETTINGS within the connect timeout");
            owner.after_event();
        },
        self->callback_failed("on_setup_timeout"));
}

void H2Connection::on_ping_timer(struct ev_loop* loop, ev_timer* watcher, int) noexcept {
    auto* self = static_cast<H2Connection*>(watcher->data);
    guard_ev(
        loop,
        [&] {
            ConnectionOwner& owner = self->owner_;
            if (self->ping_outstanding_) {
                self->close("no answer to PING within " + std::to_string(self->ping_interval_s_) + " s");
            } else if (ev_now(self->loop_) - self->last_read_ >= self->ping_interval_s_ * 0.99) {
                self->ping_outstanding_ = true;
                nghttp2_submit_ping(self->session_.get(), NGHTTP2_FLAG_NONE, nullptr);
                self->flush();
            }
            owner.after_event();
        },
        self->callback_failed("on_ping_timer"));
}

int H2Connection::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) noexcept {
    auto* self = static_cast<H2Connection*>(user);
    return guard_nghttp2(
        [&]() -> int {
            switch (frame->hd.type) {
                case NGHTTP2_SETTINGS:
                    if (frame->hd.flags & NGHTTP2_FLAG_ACK) break;
                    if (self->state_ == State::awaiting_settings) {
                        // Ready only now: before the server's SETTINGS we do not know its stream limit.
                        self->state_ = State::ready;
                        ev_timer_stop(self->loop_, &self->setup_timer_);
                        if (self->ping_interval_s_ > 0) {
                            ev_timer_set(&self->ping_timer_, self->ping_interval_s_, self->ping_interval_s_);
                            ev_timer_start(self->loop_, &self->ping_timer_);
                        }
                        self->log_.info(self->name() + " connected, max_concurrent_streams=" +
                                        std::to_string(self->remote_max_streams()));
                    } else {
                        self->log_.debug(self->name() + " settings: max_concurrent_streams=" +
                                         std::to_string(self->remote_max_streams()));
                    }
                    self->owner_.on_connection_ready(*self);
                    break;
                case NGHTTP2_GOAWAY:
                    self->goaway_received_ = true;
                    self->goaway_last_stream_id_ = frame->goaway.last_stream_id;
                    self->log_.warn(self->name() + " goaway " +
                                    describe_goaway(frame->goaway));
                    self->draining_ = true;
                    self->owner_.on_goaway(*self);
                    break;
                case NGHTTP2_PING:
                    if (frame->hd.flags & NGHTTP2_FLAG_ACK) self->ping_outstanding_ = false;
                    break;
                default:
                    break;
            }
            return 0;
        },
        self->callback_failed("on_frame_recv"));
}

int H2Connection::on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) noexcept {
    auto* self = static_cast<H2Connection*>(user);
    return guard_nghttp2(
        [&]() -> int {
            if (frame->hd.type == NGHTTP2_HEADERS) {
                if (auto it = self->streams_.find(frame->hd.stream_id); it != self->streams_.end()) {
                    it->second->result.request_sent = true;
                }
            }
            return 0;
        },
        self->callback_failed("on_frame_send"));
}

int H2Connection::on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                              const uint8_t* value, size_t valuelen, uint8_t, void* user) noexcept {
    auto* self = static_cast<H2Connection*>(user);
    return guard_nghttp2(
        [&]() -> int {
            if (frame->hd.type != NGHTTP2_HEADERS) return 0;
            auto it = self->streams_.find(frame->hd.stream_id);
            if (it == self->streams_.end()) return 0;
            std::string_view key(reinterpret_cast<const char*>(name), namelen);
            std::string_view text(reinterpret_cast<const char*>(value), valuelen);
            StreamResult& result = it->second->result;
            if (key == ":status") {
                int status = 0;
                for (char c : text) status = (c >= '0' && c <= '9') ? status * 10 + (c - '0') : -1000;
                result.status = status > 0 ? status : 0;
            } else if (key == "apns-id") {
                result.apns_id.assign(text.substr(0, 64));
            } else if (key == "retry-after") {
                result.retry_after.assign(text.substr(0, 64));
            }
            return 0;
        },
        self->callback_failed("on_header"));
}

int H2Connection::on_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                                  void* user) noexcept {
    auto* self = static_cast<H2Connection*>(user);
    return guard_nghttp2(
        [&]() -> int {
            auto it = self->streams_.find(stream_id);
            if (it == self->streams_.end()) return 0;
            std::string& body = it->second->result.body;
            if (body.size() < max_body_bytes)
                body.append(reinterpret_cast<const char*>(data), std::min(len, max_body_bytes - body.size()));
            return 0;
        },
        self->callback_failed("on_data_chunk"));
}

int H2Connection::on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user) noexcept {
    auto* self = static_cast<H2Connection*>(user);
    return guard_nghttp2(
        [&]() -> int {
            auto it = self->streams_.find(stream_id);
            if (it == self->streams_.end()) return 0;  // cancelled by us
            std::unique_ptr<Stream> stream = std::move(it->second);
            self->streams_.erase(it);
            StreamResult& result = stream->result;
            if (result.status == 0) {
                result.error_code = error_code;
                // nghttp2 closes the streams above GOAWAY's last-stream-id with REFUSED_STREAM; the
                // server sends it for streams it did not process. Both are safe to send again.
                if (error_code == NGHTTP2_REFUSED_STREAM ||
                    (self->goaway_received_ && stream_id > self->goaway_last_stream_id_)) {
                    result.refused = true;
                }
            }
            // A drained connection closes in flush() (close_if_done), never inside nghttp2's callback.
            self->owner_.on_stream_result(*self, stream->tag, std::move(result));
            return 0;
        },
        self->callback_failed("on_stream_close"));
}

ssize_t H2Connection::read_body(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                                  uint32_t* data_flags, nghttp2_data_source*, void* user) noexcept {
    auto* self = static_cast<H2Connection*>(user);
    return guard_nghttp2(
        [&]() -> ssize_t {
            auto it = self->streams_.find(stream_id);
            if (it == self->streams_.end()) {  // cancelled before its body left
                *data_flags |= NGHTTP2_DATA_FLAG_EOF;
                return 0;
            }
            Stream& stream = *it->second;
            std::size_t n = std::min(length, stream.body_out.size() - stream.body_sent);
            std::memcpy(buf, stream.body_out.data() + stream.body_sent, n);
            stream.body_sent += n;
            if (stream.body_sent == stream.body_out.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
            return static_cast<ssize_t>(n);
        },
        self->callback_failed("read_body"));
}

}  // namespace pushsync::sender
