// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fcm/transport.hpp"

#include "sender/client_transport.hpp"
#include "sender/fcm/client.hpp"

namespace pushsync::sender {

TransportFactory fcm_transport_factory(struct ev_loop* loop, Logger& log) {
    return [loop, &log](const ConnectionConfig& config,
                        PushTransport::Callback on_response) -> std::unique_ptr<PushTransport> {
        ConnectionConfig own = config;
        own.log = [&log](LogLevel level, const std::string& line) { log.log(level, "fcm", line); };
        // Throws ServiceAccountError naming the file when the service account cannot be used.
        return std::make_unique<ClientTransport<FcmClient>>(loop, own, std::move(on_response));
    };
}

}  // namespace pushsync::sender
