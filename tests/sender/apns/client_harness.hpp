// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Drives an ApnsClient on its own libev loop against a real apns-sim process, collecting every
// callback, so tests can assert "exactly one answer per send".
#include <ev.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sender/apns/client.hpp"

namespace pushsync::sender::test {

struct LoopFree {
    void operator()(struct ev_loop* loop) const { ev_loop_destroy(loop); }
};

class ClientHarness {
public:
    explicit ClientHarness(ConnectionConfig config) : loop_(ev_loop_new(EVFLAG_AUTO)) {
        config.log = [this](LogLevel level, const std::string& line) {
            log_lines.push_back(std::to_string(static_cast<int>(level)) + " " + line);
        };
        client = std::make_unique<ApnsClient>(loop_.get(), std::move(config), [this](const PushResponse& response) {
            responses.push_back(response);
            ++answers_per_tag[response.tag];
        });
    }
    ~ClientHarness() { client.reset(); }

    struct ev_loop* loop() const { return loop_.get(); }

    // Runs the loop until `done` holds or `timeout` passes (then false).
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        ev_timer tick;  // wakes ev_run so `done` and the deadline are checked even when idle
        ev_timer_init(&tick, [](struct ev_loop*, ev_timer*, int) {}, 0.01, 0.01);
        ev_timer_start(loop_.get(), &tick);
        bool ok = true;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) {
                ok = false;
                break;
            }
            ev_run(loop_.get(), EVRUN_ONCE);
        }
        ev_timer_stop(loop_.get(), &tick);
        return ok;
    }

    bool run_until_answered(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
        return run_until([&] { return responses.size() >= count; }, timeout);
    }

    const PushResponse* response_for(std::uint64_t tag) const {
        for (const auto& r : responses) {
            if (r.tag == tag) return &r;
        }
        return nullptr;
    }

    std::string log_text() const {
        std::string text;
        for (const auto& line : log_lines) text += line + "\n";
        return text;
    }

    std::vector<PushResponse> responses;
    std::map<std::uint64_t, int> answers_per_tag;
    std::vector<std::string> log_lines;
    std::unique_ptr<ApnsClient> client;

private:
    std::unique_ptr<struct ev_loop, LoopFree> loop_;
};

}  // namespace pushsync::sender::test
