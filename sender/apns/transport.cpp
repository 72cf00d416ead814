// SPDX-License-Identifier: BSD-2-Clause
#include "sender/apns/transport.hpp"

#include <map>
#include <tuple>

#include "sender/apns/client.hpp"
#include "sender/apns/jwt.hpp"

namespace pushsync::sender {

namespace {

class ApnsTransport final : public PushTransport {
public:
    ApnsTransport(struct ev_loop* loop, const ConnectionConfig& config, Callback on_response)
        : client_(loop, config, std::move(on_response)) {}

    void send(PushRequest request) override { client_.send(std::move(request)); }
    std::size_t in_flight() const noexcept override { return client_.in_flight(); }
    void shutdown(std::uint32_t deadline_ms) override { client_.shutdown(deadline_ms); }
    void drain() override { client_.drain(); }
    bool drained() const noexcept override { return client_.drained(); }
    bool credentials_rejected() const noexcept override { return client_.credentials_rejected(); }

private:
    ApnsClient client_;
};

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
        return std::make_unique<ApnsTransport>(loop, shared, std::move(on_response));
    };
}

}  // namespace pushsync::sender
