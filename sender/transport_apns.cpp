#include "sender/transport_apns.hpp"

#include "sender/apns_client.hpp"

namespace pushsync::sender {

namespace {

class ApnsTransport final : public PushTransport {
public:
    ApnsTransport(struct ev_loop* loop, const ConnectionConfig& config, Callback on_response)
        : client_(loop, config, std::move(on_response)) {}

    void send(PushRequest request) override { client_.send(std::move(request)); }
    std::size_t in_flight() const noexcept override { return client_.in_flight(); }
    void shutdown(std::uint32_t deadline_ms) override { client_.shutdown(deadline_ms); }
    bool credentials_rejected() const noexcept override { return client_.credentials_rejected(); }

private:
    ApnsClient client_;
};

}  // namespace

TransportFactory apns_transport_factory(struct ev_loop* loop) {
    return [loop](const ConnectionConfig& config, PushTransport::Callback on_response) -> std::unique_ptr<PushTransport> {
        return std::make_unique<ApnsTransport>(loop, config, std::move(on_response));
    };
}

}  // namespace pushsync::sender
