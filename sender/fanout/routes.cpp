// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fanout/routes.hpp"

#include <map>
#include <tuple>

namespace pushsync::sender {

namespace {

std::string app_env_key(std::string_view bundle_id, Environment environment) {
    std::string key(bundle_id);
    key.push_back('\0');
    key.push_back(environment == Environment::production ? 'p' : 's');
    return key;
}

}  // namespace

Routes::Routes(const Config& config) {
    using CredentialKey = std::tuple<int, std::string, std::string, std::string, std::string, int>;
    std::map<CredentialKey, std::size_t> shared;
    for (const AppConfig& app : config.apps) {
        for (const Environment env : {Environment::production, Environment::sandbox}) {
            if (!app.allows(env)) continue;
            const AppAuth& auth = app.auth;
            const CredentialKey key{static_cast<int>(auth.type), auth.team_id, auth.key_id, auth.key_file,
                                    auth.cert_file, static_cast<int>(env)};
            auto [it, fresh] = shared.try_emplace(key, connections_.size());
            if (fresh) {
                ConnectionConfig connection;
                connection.url = env == Environment::production ? config.apns.production : config.apns.sandbox;
                connection.environment = env;
                connection.ca_file = config.apns.ca_file;
                connection.connections = config.apns.connections;
                connection.request_timeout_ms = config.apns.request_timeout_ms;
                connection.ping_interval_s = config.apns.ping_interval_s;
                connection.auth = auth;
                connections_.push_back(std::move(connection));
                apps_of_.push_back(app.bundle_id);
            } else {
                apps_of_[it->second].append(",").append(app.bundle_id);
            }
            by_app_env_.emplace(app_env_key(app.bundle_id, env), it->second);
        }
    }
}

bool same_connection(const ConnectionConfig& a, const ConnectionConfig& b) noexcept {
    const auto shape = [](const ConnectionConfig& c) {
        return std::tie(c.url, c.environment, c.ca_file, c.connections, c.request_timeout_ms, c.ping_interval_s,
                        c.auth.type, c.auth.team_id, c.auth.key_id, c.auth.key_file, c.auth.cert_file,
                        c.credential_digest);
    };
    return shape(a) == shape(b);
}

std::optional<std::size_t> Routes::find(std::string_view bundle_id, Environment environment) const {
    const auto it = by_app_env_.find(app_env_key(bundle_id, environment));
    if (it == by_app_env_.end()) return std::nullopt;
    return it->second;
}

}  // namespace pushsync::sender
