// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A platform's HTTP/2 client (ApnsClient, FcmClient) as the PushTransport the dispatcher sends
// through: each call goes straight to the client, which has the same surface on every platform.
#include <cstddef>
#include <cstdint>
#include <utility>

#include "sender/transport.hpp"

struct ev_loop;

namespace pushsync::sender {

template <typename Client>
class ClientTransport final : public PushTransport {
public:
    // Whatever the client's constructor throws (bad credentials) goes to the factory's caller.
    ClientTransport(struct ev_loop* loop, const ConnectionConfig& config, Callback on_response)
        : client_(loop, config, std::move(on_response)) {}

    void send(PushRequest request) override { client_.send(std::move(request)); }
    std::size_t in_flight() const noexcept override { return client_.in_flight(); }
    void shutdown(std::uint32_t deadline_ms) override { client_.shutdown(deadline_ms); }
    void drain() override { client_.drain(); }
    bool drained() const noexcept override { return client_.drained(); }
    bool credentials_rejected() const noexcept override { return client_.credentials_rejected(); }

private:
    Client client_;
};

}  // namespace pushsync::sender
