// SPDX-License-Identifier: BSD-2-Clause
#include "tests/tools/apns_sim/h2_test_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <stdexcept>

namespace pushsync::test {

struct H2TestClient::Impl {
    H2ClientConfig config;
    int fd = -1;
    SSL_CTX* ctx = nullptr;
    SSL* ssl = nullptr;
    nghttp2_session* session = nullptr;
    std::string pending_in;  // bytes not yet a whole frame (only when rewriting SETTINGS)
    std::map<std::int32_t, std::string> request_bodies;
    std::map<std::int32_t, std::size_t> body_offsets;
    std::set<std::int32_t> held;

    ~Impl() {
        if (session) nghttp2_session_del(session);
        if (ssl) SSL_free(ssl);
        if (ctx) SSL_CTX_free(ctx);
        if (fd >= 0) ::close(fd);
    }
};

struct H2TestClientCallbacks {
    static H2TestClient& self(void* user) { return *static_cast<H2TestClient*>(user); }

    static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                         const uint8_t* value, size_t valuelen, uint8_t, void* user) {
        auto& r = self(user).responses_[frame->hd.stream_id];
        std::string n(reinterpret_cast<const char*>(name), namelen);
        std::string v(reinterpret_cast<const char*>(value), valuelen);
        if (n == ":status") r.status = std::stoi(v);
        r.headers[n] = v;
        return 0;
    }
    static int on_data(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len, void* user) {
        self(user).responses_[stream_id].body.append(reinterpret_cast<const char*>(data), len);
        return 0;
    }
    static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
        auto& c = self(user);
        if (frame->hd.type == NGHTTP2_GOAWAY) {
            c.goaway_.received = true;
            c.goaway_.last_stream_id = frame->goaway.last_stream_id;
            c.goaway_.error_code = frame->goaway.error_code;
            c.goaway_.debug.assign(reinterpret_cast<const char*>(frame->goaway.opaque_data), frame->goaway.opaque_data_len);
        } else if (frame->hd.type == NGHTTP2_SETTINGS && !(frame->hd.flags & NGHTTP2_FLAG_ACK)) {
            c.settings_received_ = true;
            ++c.settings_frames_;
            if (!c.impl_->config.ignore_stream_limit) {
                c.server_max_streams_ =
                    nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
            }
        } else if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK)) {
            ++c.ping_acks_;
        } else if (frame->hd.type == NGHTTP2_RST_STREAM) {
            auto& r = c.responses_[frame->hd.stream_id];
            r.reset = true;
            r.rst_error = frame->rst_stream.error_code;
        }
        return 0;
    }
    static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t, void* user) {
        self(user).responses_[stream_id].closed = true;
        return 0;
    }
    static ssize_t read_body(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length, uint32_t* flags,
                             nghttp2_data_source*, void* user) {
        auto& impl = *self(user).impl_;
        if (impl.held.count(stream_id)) return NGHTTP2_ERR_DEFERRED;
        const std::string& body = impl.request_bodies[stream_id];
        std::size_t& off = impl.body_offsets[stream_id];
        std::size_t n = std::min(length, body.size() - off);
        std::copy_n(body.data() + off, n, buf);
        off += n;
        if (off == body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(n);
    }
};

H2TestClient::H2TestClient(H2ClientConfig config) : impl_(std::make_unique<Impl>()) {
    auto& im = *impl_;
    im.config = std::move(config);
    im.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(im.config.port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(im.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect failed");
    int one = 1;
    ::setsockopt(im.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    im.ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(im.ctx, TLS1_2_VERSION);
    if (!im.config.ca_file.empty()) {
        SSL_CTX_load_verify_locations(im.ctx, im.config.ca_file.c_str(), nullptr);
        SSL_CTX_set_verify(im.ctx, SSL_VERIFY_PEER, nullptr);
    }
    if (!im.config.cert_file.empty()) {
        if (SSL_CTX_use_certificate_chain_file(im.ctx, im.config.cert_file.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(im.ctx, im.config.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
            throw std::runtime_error("cannot use client certificate " + im.config.cert_file);
        }
    }
    std::string alpn;
    for (const auto& p : im.config.alpn) {
        alpn += static_cast<char>(p.size());
        alpn += p;
    }
    if (!alpn.empty()) SSL_CTX_set_alpn_protos(im.ctx, reinterpret_cast<const unsigned char*>(alpn.data()), alpn.size());
    im.ssl = SSL_new(im.ctx);
    SSL_set_fd(im.ssl, im.fd);
    SSL_set_tlsext_host_name(im.ssl, "localhost");
    SSL_set1_host(im.ssl, "127.0.0.1");
    if (SSL_connect(im.ssl) != 1) {
        char buf[256];
        ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
        throw std::runtime_error(std::string("TLS handshake failed: ") + buf);
    }
    ::fcntl(im.fd, F_SETFL, ::fcntl(im.fd, F_GETFL) | O_NONBLOCK);

    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, H2TestClientCallbacks::on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, H2TestClientCallbacks::on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, H2TestClientCallbacks::on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, H2TestClientCallbacks::on_stream_close);
    nghttp2_option* opt = nullptr;
    nghttp2_option_new(&opt);
    // Before the server's SETTINGS arrive nghttp2 would assume 100 streams; assume 1 like a careful client.
    if (!im.config.ignore_stream_limit) nghttp2_option_set_peer_max_concurrent_streams(opt, 1);
    nghttp2_session_client_new2(&im.session, cbs, this, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(im.session, NGHTTP2_FLAG_NONE, nullptr, 0);
}

H2TestClient::~H2TestClient() = default;

std::string H2TestClient::alpn() const {
    const unsigned char* p = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(impl_->ssl, &p, &len);
    return p ? std::string(reinterpret_cast<const char*>(p), len) : "";
}

std::int32_t H2TestClient::submit(const std::string& path, const Headers& headers, const std::string& body,
                                  const std::string& method, bool hold_body) {
    Headers all = {{":method", method}, {":scheme", "https"}, {":authority", "127.0.0.1"}, {":path", path}};
    for (const auto& h : headers) all.push_back(h);
    std::vector<nghttp2_nv> nva;
    for (auto& [n, v] : all) {
        const bool sensitive = n == ":path" || n == "authorization";
        nva.push_back({reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()), n.size(), v.size(),
                       static_cast<uint8_t>(sensitive && impl_->config.never_index_sensitive ? NGHTTP2_NV_FLAG_NO_INDEX
                                                                                             : NGHTTP2_NV_FLAG_NONE)});
    }
    nghttp2_data_provider prd;
    prd.read_callback = H2TestClientCallbacks::read_body;
    bool with_body = !body.empty() || hold_body;
    std::int32_t id = nghttp2_submit_request(impl_->session, nullptr, nva.data(), nva.size(), with_body ? &prd : nullptr, this);
    if (id < 0) throw std::runtime_error(std::string("nghttp2_submit_request: ") + nghttp2_strerror(id));
    impl_->request_bodies[id] = body;
    if (hold_body) impl_->held.insert(id);
    responses_[id];
    return id;
}

void H2TestClient::release(std::int32_t stream_id) {
    impl_->held.erase(stream_id);
    nghttp2_session_resume_data(impl_->session, stream_id);
}

void H2TestClient::ping() { nghttp2_submit_ping(impl_->session, NGHTTP2_FLAG_NONE, nullptr); }

bool H2TestClient::run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    auto& im = *impl_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        // send everything nghttp2 has
        while (!closed_) {
            const uint8_t* data = nullptr;
            ssize_t n = nghttp2_session_mem_send(im.session, &data);
            if (n <= 0) break;
            std::size_t off = 0;
            while (off < static_cast<std::size_t>(n)) {
                int w = SSL_write(im.ssl, data + off, static_cast<int>(n - off));
                if (w > 0) {
                    off += static_cast<std::size_t>(w);
                    continue;
                }
                int err = SSL_get_error(im.ssl, w);
                if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
                    pollfd p{im.fd, POLLOUT, 0};
                    ::poll(&p, 1, 100);
                    continue;
                }
                closed_ = true;
                break;
            }
        }
        if (pred()) return true;
        if (closed_) {
            for (auto& [id, r] : responses_) r.closed = true;
            return pred();
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        if (SSL_pending(im.ssl) == 0) {
            pollfd p{im.fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 50))) == 0) continue;
        }
        char buf[16384];
        int n = SSL_read(im.ssl, buf, sizeof buf);
        if (n <= 0) {
            int err = SSL_get_error(im.ssl, n);
            if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) continue;
            closed_ = true;
            continue;
        }
        std::string chunk(buf, static_cast<std::size_t>(n));
        if (im.config.ignore_stream_limit) {
            // Split into frames and raise every MAX_CONCURRENT_STREAMS the server announces.
            im.pending_in += chunk;
            chunk.clear();
            while (im.pending_in.size() >= 9) {
                auto* p = reinterpret_cast<unsigned char*>(im.pending_in.data());
                std::size_t len = (std::size_t(p[0]) << 16) | (std::size_t(p[1]) << 8) | p[2];
                if (im.pending_in.size() < 9 + len) break;
                if (p[3] == 0x4 && !(p[4] & 0x1)) {
                    for (std::size_t i = 0; i + 6 <= len; i += 6) {
                        unsigned char* e = p + 9 + i;
                        if (e[0] == 0 && e[1] == 3) {
                            server_max_streams_ = (std::uint32_t(e[2]) << 24) | (std::uint32_t(e[3]) << 16) |
                                                  (std::uint32_t(e[4]) << 8) | e[5];
                            e[2] = 0; e[3] = 0; e[4] = 0x03; e[5] = 0xe8;  // 1000
                        }
                    }
                }
                chunk.append(im.pending_in, 0, 9 + len);
                im.pending_in.erase(0, 9 + len);
            }
        }
        if (!chunk.empty()) {
            ssize_t rv = nghttp2_session_mem_recv(im.session, reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size());
            if (rv < 0) closed_ = true;
        }
    }
}

H2Response H2TestClient::request(const std::string& path, const Headers& headers, const std::string& body,
                                 const std::string& method) {
    auto id = submit(path, headers, body, method);
    wait_closed(id);
    return responses_[id];
}

}  // namespace pushsync::test
