// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One client connection to fcm-sim: the meaning of each stream (POST /token, messages:send, the
// token marks, faults, log) on tools/sim-common's HTTP/2-over-TLS connection.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "faults.hpp"
#include "log.hpp"
#include "simulator.hpp"
#include "tools/sim-common/h2/connection.hpp"

namespace fcm_sim {

// What a stream is answered with, once checks and faults have had their say.
struct Answer {
    int status = 200;
    sim::ResponseHeaders headers;
    std::string body;
    std::string error;  // for the log and counters: errorCode, google.rpc status or OAuth error
    std::string message;
};

class FcmConnection : public sim::H2Connection {
public:
    FcmConnection(sim::H2Server& server, Simulator& sim, struct ev_loop* loop, SSL_CTX* tls, sim::UniqueFd fd,
                  std::uint64_t id);

private:
    struct Stream : sim::H2Stream {
        using H2Stream::H2Stream;
        std::string method;
        std::string path;
        std::string authorization;
        std::string content_type;
        std::string body;  // up to a cap; body_size counts everything
        std::size_t body_size = 0;
        LogEntry entry;
        Answer delayed;    // a delay fault's answer, sent when the delay runs out
    };

    std::unique_ptr<sim::H2Stream> new_stream(std::int32_t id) override;
    std::uint32_t on_session_start() override { return sim_.opt.max_streams; }
    void on_header(sim::H2Stream& s, std::string_view name, std::string_view value, std::uint8_t flags) override;
    void on_body(sim::H2Stream& s, const std::uint8_t* data, std::size_t len) override;
    void on_request(sim::H2Stream& s) override;
    void on_delay_done(sim::H2Stream& s) override;

    Answer token_request(Stream& s);
    Answer send_request(Stream& s, const std::string& project);
    // Answers, or lets a fault of this endpoint take the request over (error, delay, silence, GOAWAY).
    void finish(Stream& s, Endpoint endpoint, const std::string& token, Answer answer);
    void answer(Stream& s, const Answer& a);

    Simulator& sim_;
};

}  // namespace fcm_sim
