// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One APNs client connection: the APNs semantics of each stream (validation, authentication,
// registry, faults, log) on tools/sim-common's HTTP/2-over-TLS connection.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/connection_auth.hpp"
#include "common.hpp"
#include "requests/log.hpp"
#include "requests/validation.hpp"
#include "simulator.hpp"
#include "tools/sim-common/h2/connection.hpp"

namespace apns_sim {

class H2Connection : public sim::H2Connection {
public:
    H2Connection(sim::H2Server& server, Simulator& sim, const sim::H2Config& config, struct ev_loop* loop, SSL_CTX* tls,
                 UniqueFd fd, std::uint64_t id);

private:
    struct Stream : sim::H2Stream {
        using H2Stream::H2Stream;
        Request request;
        LogEntry entry;
    };

    std::unique_ptr<sim::H2Stream> new_stream(std::int32_t id) override;
    std::uint32_t on_session_start() override;
    void on_header(sim::H2Stream& s, std::string_view name, std::string_view value, std::uint8_t flags) override;
    void on_body(sim::H2Stream& s, const std::uint8_t* data, std::size_t len) override;
    void on_request(sim::H2Stream& s) override;
    void on_delay_done(sim::H2Stream& s) override { respond_ok(static_cast<Stream&>(s)); }
    std::string describe_open() const override;
    void describe(nlohmann::json& j) const override;

    void respond(Stream& s, int status, const std::string& reason, std::int64_t timestamp_ms);
    void respond_ok(Stream& s) { respond(s, 200, "", -1); }
    void finish_log(Stream& s, int status, const std::string& reason);

    Simulator& sim_;
    std::unique_ptr<ConnectionAuth> auth_;
    bool limit_dropped_ = false;
};

}  // namespace apns_sim
