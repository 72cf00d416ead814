// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The keys and certificates a configuration names, read and checked before anything uses them:
// at start, and at a reload off the event loop, so a broken file leaves the running
// configuration in force. Each connection of the routes gets its TLS context (CA, client
// certificate), its JWT signer and a digest of the files' bytes (a rotated key with an unchanged
// path still replaces its connections).
#include <cstdint>
#include <string>
#include <vector>

#include "sender/fanout/routes.hpp"
#include "shared/config/config.hpp"

namespace pushsync::sender {

// One app's client certificate: when it stops working.
struct CredentialExpiry {
    std::string bundle_id;
    std::string cert_file;
    std::int64_t not_after_unix_s = 0;
};

// Throws ConfigError "FILE:LINE: apps[i].auth.key_file: PROBLEM" (or apns.ca_file) for the first
// file that cannot be used. Returns the expiry of every app's client certificate.
std::vector<CredentialExpiry> load_credentials(const Config& config, Routes& routes);

}  // namespace pushsync::sender
