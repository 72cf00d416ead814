// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A simulator's TLS server setup: TLS 1.2+, ALPN h2 only (no ALPN = prior knowledge, as pushy
// allows), a client certificate requested from everyone and judged after the handshake by the
// simulator that cares (apns-sim; fcm-sim ignores it).
#include <string>

#include "tools/sim-common/net/openssl_ptr.hpp"

namespace sim {

// Throws std::runtime_error naming the file that could not be used. ca_file may be empty.
SslCtxPtr make_server_tls_context(const std::string& cert_file, const std::string& key_file, const std::string& ca_file);

// Drains OpenSSL's error queue into one line.
std::string openssl_error_text();

}  // namespace sim
