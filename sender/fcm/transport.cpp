// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fcm/transport.hpp"

#include "sender/fcm/client.hpp"

namespace pushsync::sender {

namespace {

class FcmTransport final : public PushTransport {
public:
    FcmTransport(struct ev_loop* loop, const ConnectionConfig& config, Callback on_response)
        : client_(loop, config, std::move(on_response)) {}

    void send(PushRequest request) override { client_.send(std::move(request)); }
    std::size_t in_flight() const noexcept override { return client_.in_flight(); }
    void shutdown(std::uint32_t deadline_ms) override { client_.shutdown(deadline_ms); }
    void drain() override { client_.drain(); }
    bool drained() const noexcept override { return client_.drained(); }
    bool credentials_rejected() const noexcept override { return client_.credentials_rejected(); }

private:
    FcmClient client_;
};

}  // namespace

TransportFactory fcm_transport_factory(struct ev_loop* loop, Logger& log) {
    return [loop, &log](const ConnectionConfig& config,
                        PushTransport::Callback on_response) -> std::unique_ptr<PushTransport> {
        ConnectionConfig own = config;
        own.log = [&log](LogLevel level, const std::string& line) { log.log(level, "fcm", line); };
        // Throws ServiceAccountError naming the file when the service account cannot be used.
        return std::make_unique<FcmTransport>(loop, own, std::move(on_response));
    };
}

}  // namespace pushsync::sender
