// SPDX-License-Identifier: BSD-2-Clause
#include "sender/net/tls_context.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace pushsync::sender {

std::string openssl_error_text() {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "no OpenSSL error recorded";
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    return buf;
}

namespace {

struct X509Free {
    void operator()(X509* cert) const noexcept { X509_free(cert); }
};

}  // namespace

std::int64_t certificate_not_after(const std::string& cert_file) {
    const std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(cert_file.c_str(), "rb"), &std::fclose);
    if (!file) throw std::runtime_error("cannot read " + cert_file + " (" + std::strerror(errno) + ")");
    const std::unique_ptr<X509, X509Free> cert(PEM_read_X509(file.get(), nullptr, nullptr, nullptr));
    if (!cert) throw std::runtime_error(cert_file + " holds no PEM certificate: " + openssl_error_text());
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) {
        throw std::runtime_error(cert_file + ": unreadable notAfter date");
    }
    return static_cast<std::int64_t>(timegm(&tm));
}

void TlsContext::Free::operator()(ssl_ctx_st* ctx) const noexcept { SSL_CTX_free(ctx); }

TlsContext::TlsContext(const TlsClientOptions& options) : ctx_(SSL_CTX_new(TLS_client_method())) {
    if (!ctx_) throw std::runtime_error("cannot create TLS context: " + openssl_error_text());
    SSL_CTX* ctx = ctx_.get();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);  // APNs: TLS 1.2 or later
    // HTTP/2 forbids renegotiation and compression (RFC 9113 §9.2).
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    static constexpr unsigned char alpn[] = {2, 'h', '2'};
    if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn) != 0) {
        throw std::runtime_error("cannot set ALPN h2: " + openssl_error_text());
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) ERR_clear_error();  // no system store: ca_file may do
    if (!options.ca_file.empty() &&
        SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
        throw TlsFileError(options.ca_file, "cannot read CA file " + options.ca_file + ": " + openssl_error_text());
    }
    if (!options.cert_file.empty()) {
        if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
            throw TlsFileError(options.cert_file,
                               "cannot read certificate file " + options.cert_file + ": " + openssl_error_text());
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
            throw TlsFileError(options.key_file, "cannot read key file " + options.key_file + ": " + openssl_error_text());
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            throw TlsFileError(options.key_file,
                               "key file " + options.key_file + " does not match certificate " + options.cert_file);
        }
    }
}

TlsContext::~TlsContext() = default;

ssl_st* TlsContext::new_ssl(const std::string& host, int fd) const {
    SSL* ssl = SSL_new(ctx_.get());
    if (!ssl) throw std::runtime_error("cannot create TLS session: " + openssl_error_text());
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, host.c_str(), ip) == 1 || inet_pton(AF_INET6, host.c_str(), ip) == 1;
    bool ok = SSL_set_fd(ssl, fd) == 1;
    if (is_ip) {
        // SNI carries host names only (RFC 6066 §3); an IP literal is checked against the IP SANs.
        ok = ok && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
    } else {
        ok = ok && SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
    }
    if (!ok) {
        SSL_free(ssl);
        throw std::runtime_error("cannot set up TLS session for " + host + ": " + openssl_error_text());
    }
    SSL_set_connect_state(ssl);
    return ssl;
}

}  // namespace pushsync::sender
