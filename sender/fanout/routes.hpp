// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Which connection configuration carries a device's push: for apns one per (credentials,
// environment) from pushsync.yaml's apps, shared by apps with the same credentials and environment
// (APNs binds a connection to one team; docs/config.md "Rules"); for fcm one per service account
// file, shared by the apps it serves (the project is the account's).
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "sender/transport.hpp"
#include "shared/config/config.hpp"

namespace pushsync::sender {

class Routes {
public:
    explicit Routes(const Config& config);

    // One per (credentials, environment); the index is the transport's.
    const std::vector<ConnectionConfig>& connections() const noexcept { return connections_; }
    // For the credential loader (sender/daemon/credentials.hpp), which hands each its TLS context and signer.
    std::vector<ConnectionConfig>& connections() noexcept { return connections_; }
    // nullopt: the app is no longer configured, or not for that environment.
    std::optional<std::size_t> find(Platform platform, std::string_view bundle_id, Environment environment) const;
    std::optional<std::size_t> find(std::string_view bundle_id, Environment environment) const {
        return find(Platform::apns, bundle_id, environment);
    }
    // The bundle IDs a connection serves, for logs ("com.a,com.b").
    const std::string& apps_of(std::size_t connection) const { return apps_of_.at(connection); }

private:
    using CredentialKey = std::tuple<int, std::string, std::string, std::string, std::string, int>;
    using CredentialMap = std::map<CredentialKey, std::size_t>;
    void add_fcm(const Config& config, const AppConfig& app, CredentialMap& shared);

    std::vector<ConnectionConfig> connections_;
    std::vector<std::string> apps_of_;
    std::unordered_map<std::string, std::size_t> by_app_env_;  // "platform\0bundle\0env" -> connection
};

// A reload keeps a connection only when nothing that shapes it changed: endpoint, CA, counts,
// timeouts, credentials and the bytes of their files (credential_digest).
bool same_connection(const ConnectionConfig& a, const ConnectionConfig& b) noexcept;

}  // namespace pushsync::sender
