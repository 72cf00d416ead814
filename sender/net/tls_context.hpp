// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The client TLS context for APNs connections: TLS 1.2+, ALPN h2, peer verification against the
// system CAs plus an optional extra CA file, and the client certificate for certificate auth.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

struct ssl_ctx_st;
struct ssl_st;

namespace pushsync::sender {

struct TlsClientOptions {
    std::string ca_file;    // extra trusted CA (PEM); empty: system CAs only
    std::string cert_file;  // client certificate chain (PEM), certificate auth only
    std::string key_file;   // its private key (PEM)
};

// A file of TlsClientOptions that cannot be used; what() names it and says why.
class TlsFileError : public std::runtime_error {
public:
    TlsFileError(std::string file, const std::string& what) : std::runtime_error(what), file_(std::move(file)) {}
    const std::string& file() const noexcept { return file_; }

private:
    std::string file_;
};

class TlsContext {
public:
    // Throws TlsFileError naming the file that cannot be used.
    explicit TlsContext(const TlsClientOptions& options);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    // A new client SSL for `host` (SNI unless it is an IP literal; hostname or IP verification),
    // bound to the non-blocking socket `fd`. The caller owns it (SSL_free).
    ssl_st* new_ssl(const std::string& host, int fd) const;

private:
    struct Free {
        void operator()(ssl_ctx_st* ctx) const noexcept;
    };
    std::unique_ptr<ssl_ctx_st, Free> ctx_;
};

// The last OpenSSL error queue entry as text, clearing the queue.
std::string openssl_error_text();

// The notAfter of the first certificate in a PEM file, as Unix seconds; throws
// std::runtime_error naming the file.
std::int64_t certificate_not_after(const std::string& cert_file);

}  // namespace pushsync::sender
