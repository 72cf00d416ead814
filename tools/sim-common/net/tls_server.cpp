// SPDX-License-Identifier: BSD-2-Clause
#include "tools/sim-common/net/tls_server.hpp"

#include <openssl/err.h>

#include <cstring>
#include <stdexcept>

namespace sim {

std::string openssl_error_text() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out.empty() ? "unknown TLS error" : out;
}

namespace {

int select_h2(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen, void*) {
    // HTTP/1.1 is refused: a client offering ALPN without h2 fails the handshake.
    for (unsigned int i = 0; i < inlen;) {
        unsigned int len = in[i];
        if (i + 1 + len > inlen) break;
        if (len == 2 && std::memcmp(in + i + 1, "h2", 2) == 0) {
            *out = in + i + 1;
            *outlen = 2;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

// The verdict on a client certificate is given per request (BadCertificate), not by failing the
// handshake, as APNs does.
int accept_any_chain(int, X509_STORE_CTX*) { return 1; }

}  // namespace

SslCtxPtr make_server_tls_context(const std::string& cert_file, const std::string& key_file, const std::string& ca_file) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) throw std::runtime_error("TLS: " + openssl_error_text());
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) {
        throw std::runtime_error("--cert: cannot use " + cert_file + ": " + openssl_error_text());
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        throw std::runtime_error("--key: cannot use " + key_file + ": " + openssl_error_text());
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
        throw std::runtime_error("--key: " + key_file + " does not match " + cert_file);
    }
    if (!ca_file.empty()) {
        if (SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
            throw std::runtime_error("--ca: cannot use " + ca_file + ": " + openssl_error_text());
        }
        if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca_file.c_str())) {
            SSL_CTX_set_client_CA_list(ctx.get(), names);
        }
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, accept_any_chain);
    SSL_CTX_set_alpn_select_cb(ctx.get(), select_h2, nullptr);
    return ctx;
}

}  // namespace sim
