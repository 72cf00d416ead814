// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// `pushsyncctl check`, credentials half: every key, certificate, service account and CA file
// pushsync.yaml names, as the sender would find them — readable by its user (`pushsync` when that
// user exists, else the one running pushsyncctl), its alone, parsable, matching, not expired.
// Never prints a secret: paths, key ids, projects, accounts and dates only.
#include <cstdint>
#include <string>
#include <vector>

#include "shared/config/config.hpp"

namespace pushsync::cli {

struct CertificateExpiry {
    std::string bundle_id;
    std::string cert_file;
    std::int64_t not_after_unix_s = 0;
};

// A service account file the sender can use: which project it sends for, as whom.
struct ServiceAccountSummary {
    std::string bundle_id;
    std::string file;
    std::string project_id;
    std::string client_email;
};

struct CredentialReport {
    std::string user;                      // whose reading was checked
    // "FILE:LINE: apps[i].auth.key_file: PATH: PROBLEM"; a content problem in the sender's own
    // words (Es256Key, TlsContext, certificate_not_after), which name the file themselves.
    std::vector<std::string> problems;
    // A certificate within 30 days of its end; a key file that is not the sender's alone (owned
    // by another user, or any mode bit for group or others): still usable, but exposed.
    std::vector<std::string> warnings;
    std::vector<CertificateExpiry> certificates;
    std::vector<ServiceAccountSummary> service_accounts;
};

CredentialReport check_credentials(const Config& config, std::int64_t now_unix_s);

}  // namespace pushsync::cli
