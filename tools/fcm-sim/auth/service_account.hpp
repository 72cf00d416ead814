// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The service accounts fcm-sim accepts assertions from: Google's service account JSON files
// (docs/fcm.md §1), the very files a sender is configured with. The public key is derived from
// the file's private_key, so a test needs one file for both sides.
#include <string>
#include <vector>

#include "tools/sim-common/net/openssl_ptr.hpp"

namespace fcm_sim {

struct ServiceAccount {
    std::string file;
    std::string project_id;
    std::string private_key_id;  // the assertion's kid
    std::string client_email;    // the assertion's iss and sub
    std::string token_uri;       // the assertion's aud
    sim::EvpPkeyPtr public_key;  // RSA
};

// Throws std::runtime_error naming the file and the field that is missing or wrong.
ServiceAccount load_service_account(const std::string& path);

class ServiceAccounts {
public:
    explicit ServiceAccounts(const std::vector<std::string>& files);
    // By client_email (the assertion's iss); nullptr when unknown.
    const ServiceAccount* find(const std::string& client_email) const;
    bool has_project(const std::string& project_id) const;
    const std::vector<ServiceAccount>& all() const noexcept { return accounts_; }

private:
    std::vector<ServiceAccount> accounts_;
};

}  // namespace fcm_sim
