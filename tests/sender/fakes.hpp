// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Fakes for the sender's unit tests: a clock and randomness the test moves, and a PushTransport
// that holds every request until the test answers it. Everything else (the store, the queue) is real.
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "sender/clock.hpp"
#include "sender/transport.hpp"

namespace pushsync::sender::test {

class FakeClock final : public Clock {
public:
    std::int64_t now_ms() const override { return now; }
    std::int64_t unix_ms() const override { return unix_base + now; }
    std::int64_t now = 1000;
    std::int64_t unix_base = 1'800'000'000'000;
};

class FakeRandom final : public Random {
public:
    double uniform() override { return value; }
    double value = 0.5;
};

// One per connection configuration; the registry keeps them all for the test to reach.
class FakeTransport final : public PushTransport {
public:
    FakeTransport(ConnectionConfig config, Callback callback) : config(std::move(config)), callback_(std::move(callback)) {}

    void send(PushRequest request) override { waiting.push_back(std::move(request)); ++sent; }
    std::size_t in_flight() const noexcept override { return waiting.size(); }
    void shutdown(std::uint32_t) override { shut_down = true; }
    void drain() override { draining = true; }
    bool drained() const noexcept override { return draining && waiting.empty(); }
    bool credentials_rejected() const noexcept override { return false; }

    // Answers the oldest request waiting.
    PushRequest answer(int status, std::string reason = {}, std::int64_t timestamp_ms = 0) {
        PushRequest request = std::move(waiting.front());
        waiting.pop_front();
        PushResponse response;
        response.tag = request.tag;
        response.status = status;
        response.reason = std::move(reason);
        response.timestamp_ms = timestamp_ms;
        response.apns_id = "00000000-0000-0000-0000-" + std::to_string(100000000000 + request.tag);
        callback_(response);
        return request;
    }
    void answer_all(int status, std::string reason = {}) {
        while (!waiting.empty()) answer(status, reason);
    }

    ConnectionConfig config;
    std::deque<PushRequest> waiting;
    std::size_t sent = 0;
    bool shut_down = false;
    bool draining = false;

private:
    Callback callback_;
};

struct FakeTransports {
    std::vector<FakeTransport*> all;  // owned by the dispatcher
    TransportFactory factory() {
        return [this](const ConnectionConfig& config, PushTransport::Callback callback) {
            auto transport = std::make_unique<FakeTransport>(config, std::move(callback));
            all.push_back(transport.get());
            return std::unique_ptr<PushTransport>(std::move(transport));
        };
    }
    std::size_t waiting() const {
        std::size_t n = 0;
        for (auto* t : all) n += t->waiting.size();
        return n;
    }
};

}  // namespace pushsync::sender::test
