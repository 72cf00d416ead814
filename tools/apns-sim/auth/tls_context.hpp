// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The server's TLS setup: TLS 1.2+, ALPN h2 only (no ALPN = prior knowledge, as pushy allows),
// a client certificate requested from everyone and judged after the handshake.
#include <string>

#include "auth/connection_auth.hpp"
#include "net/openssl_ptr.hpp"

namespace apns_sim {

// Throws std::runtime_error naming the file that could not be used.
SslCtxPtr make_server_tls_context(const std::string& cert_file, const std::string& key_file, const std::string& ca_file);

// Reads the peer certificate of a finished handshake.
ClientCertificate inspect_client_certificate(SSL* ssl);

std::string openssl_error_text();

}  // namespace apns_sim
