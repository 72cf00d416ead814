// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fanout/routes.hpp"

#include <map>
#include <tuple>

namespace pushsync::sender {

namespace {

std::string app_env_key(Platform platform, std::string_view bundle_id, Environment environment) {
    std::string key(1, static_cast<char>('0' + static_cast<int>(platform)));
    key.push_back('\0');
    key.append(bundle_id);
    key.push_back('\0');
    key.push_back(environment == Environment::production ? 'p' : 's');
    return key;
}

}  // namespace

Routes::Routes(const Config& config) {
    CredentialMap shared;
    for (const AppConfig& app : config.apps) {
        if (app.platform == Platform::fcm) {
            add_fcm(config, app, shared);
            continue;
        }
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
            by_app_env_.emplace(app_env_key(Platform::apns, app.bundle_id, env), it->second);
        }
    }
}

// One connection configuration per (service account file, android_priority): FCM's message
// carries the priority, so apps of one account that differ in it need their own.
void Routes::add_fcm(const Config& config, const AppConfig& app, CredentialMap& shared) {
    const CredentialKey key{static_cast<int>(AuthType::service_account), app.auth.file, {}, {}, {},
                            static_cast<int>(app.android_priority)};
    auto [it, fresh] = shared.try_emplace(key, connections_.size());
    if (fresh) {
        ConnectionConfig connection;
        connection.platform = Platform::fcm;
        connection.url = config.fcm.endpoint;
        connection.environment = Environment::production;
        connection.ca_file = config.fcm.ca_file;
        connection.connections = config.fcm.connections;
        connection.request_timeout_ms = config.fcm.request_timeout_ms;
        connection.ping_interval_s = config.apns.ping_interval_s;  // the fcm section has none of its own
        connection.max_streams = config.fcm.max_streams;
        connection.token_uri = config.fcm.token_uri;
        connection.android_priority = app.android_priority;
        connection.expiration_s = config.delivery.expiration_s;
        connection.auth = app.auth;
        connections_.push_back(std::move(connection));
        apps_of_.push_back(app.bundle_id);
    } else {
        apps_of_[it->second].append(",").append(app.bundle_id);
    }
    by_app_env_.emplace(app_env_key(Platform::fcm, app.bundle_id, Environment::production), it->second);
}

bool same_connection(const ConnectionConfig& a, const ConnectionConfig& b) noexcept {
    const auto shape = [](const ConnectionConfig& c) {
        return std::tie(c.platform, c.url, c.environment, c.ca_file, c.connections, c.request_timeout_ms,
                        c.ping_interval_s, c.max_streams, c.token_uri, c.android_priority, c.expiration_s, c.auth.type,
                        c.auth.team_id, c.auth.key_id, c.auth.key_file, c.auth.cert_file, c.auth.file,
                        c.credential_digest);
    };
    return shape(a) == shape(b);
}

std::optional<std::size_t> Routes::find(Platform platform, std::string_view bundle_id, Environment environment) const {
    // FCM has no environments: every fcm device is reached through the one endpoint.
    if (platform == Platform::fcm) environment = Environment::production;
    const auto it = by_app_env_.find(app_env_key(platform, bundle_id, environment));
    if (it == by_app_env_.end()) return std::nullopt;
    return it->second;
}

}  // namespace pushsync::sender
