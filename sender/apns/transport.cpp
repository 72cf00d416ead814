// SPDX-License-Identifier: BSD-2-Clause
#include "sender/apns/transport.hpp"

#include <map>
#include <tuple>

#include "sender/apns/client.hpp"
#include "sender/apns/jwt.hpp"
#include "sender/client_transport.hpp"

namespace pushsync::sender {

namespace {

using JwtKey = std::tuple<std::string, std::string, std::string>;  // team, key id, .p8 path

}  // namespace

TransportFactory apns_transport_factory(struct ev_loop* loop, Logger& log) {
    auto caches = std::make_shared<std::map<JwtKey, std::shared_ptr<JwtCache>>>();
    return [loop, &log, caches](const ConnectionConfig& config,
                                PushTransport::Callback on_response) -> std::unique_ptr<PushTransport> {
        ConnectionConfig shared = config;
        shared.log = [&log](LogLevel level, const std::string& line) { log.log(level, "apns", line); };
        if (shared.auth.type == AuthType::token && !shared.jwt_cache) {
            auto& cache = (*caches)[JwtKey{shared.auth.team_id, shared.auth.key_id, shared.auth.key_file}];
            if (!cache) {
                // Throws std::runtime_error naming the file when the key is not a P-256 PKCS#8 key.
                cache = std::make_shared<JwtCache>(Es256Key::from_pem_file(shared.auth.key_file),
                                                   shared.auth.team_id, shared.auth.key_id);
            }
            shared.jwt_cache = cache;
        }
        return std::make_unique<ClientTransport<ApnsClient>>(loop, shared, std::move(on_response));
    };
}

}  // namespace pushsync::sender
