// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// APNs' side of TLS: the client certificate of a finished handshake (the TLS setup itself,
// ALPN h2 and a certificate requested from everyone, is tools/sim-common/net/tls_server.hpp).
#include <string>

#include "auth/connection_auth.hpp"
#include "tools/sim-common/net/tls_server.hpp"

namespace apns_sim {

using sim::make_server_tls_context;
using sim::openssl_error_text;

// Reads the peer certificate of a finished handshake.
ClientCertificate inspect_client_certificate(SSL* ssl);

}  // namespace apns_sim
