// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A running tools/apns-sim for tests: development certificates made by tools/devcerts in a
// TempDir, the simulator started on free loopback ports and waited for, and small helpers for its
// control API (mark tokens, script faults, move the clock, read the request log and counters).
//
// Tests using it must depend on the simulator binary: `add_dependencies(<test> apns-sim)`.
// The fixture itself needs no OpenSSL; sign JWTs with the .p8 at key_file() (key_id(), team_id()).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/sim_control.hpp"

namespace pushsync::test {

struct ApnsSimOptions {
    std::string environment = "production";          // production | sandbox
    std::vector<std::string> topics{"com.example.app"};  // bundle IDs the devcerts token key may push to
    std::uint32_t max_streams = 1000;
    std::vector<std::string> extra_args{};            // more apns-sim flags (see apns-sim --help)
    bool start = true;                                // false: call start() yourself
};

class ApnsSimFixture {
public:
    explicit ApnsSimFixture(ApnsSimOptions options = {});
    ~ApnsSimFixture();
    ApnsSimFixture(const ApnsSimFixture&) = delete;
    ApnsSimFixture& operator=(const ApnsSimFixture&) = delete;

    // Starts the simulator and waits until both ports answer; throws std::runtime_error with its
    // stderr when it does not come up.
    void start();
    void stop();  // SIGTERM, wait
    bool running();

    int port() const noexcept { return port_; }
    pid_t pid() const noexcept { return process_.pid(); }  // benchmarks read its CPU time
    int control_port() const noexcept { return control_port_; }
    std::string url() const;  // https://127.0.0.1:PORT

    // Files made by tools/devcerts, in certs_dir(): <build>/apns-sim-devcerts, shared by every test
    // of the build (read them, don't change them).
    const std::filesystem::path& certs_dir() const noexcept { return certs_; }
    std::filesystem::path ca_file() const { return certs_ / "ca.pem"; }
    std::filesystem::path server_cert_file() const { return certs_ / "server.pem"; }
    std::filesystem::path server_key_file() const { return certs_ / "server.key"; }
    std::filesystem::path key_file() const;  // AuthKey_<KEY_ID>.p8
    std::filesystem::path public_key_file() const;
    std::filesystem::path client_cert_file() const { return certs_ / "client.pem"; }  // UID=com.example.legacy
    std::filesystem::path client_key_file() const { return certs_ / "client.key"; }
    const std::string& key_id() const noexcept { return key_id_; }
    const std::string& team_id() const noexcept { return team_id_; }
    static constexpr const char* client_topic = "com.example.legacy";

    std::filesystem::path log_file() const { return dir_ / "requests.jsonl"; }
    std::filesystem::path stderr_file() const { return dir_ / "apns-sim.log"; }
    const std::filesystem::path& dir() const noexcept { return dir_.path(); }

    // Control API. control() returns status 0 when the simulator does not answer.
    ControlResponse control(const std::string& method, const std::string& path, const std::string& body = "") const;
    // Parses the JSON answer; throws std::runtime_error on a non-200 status.
    nlohmann::json control_json(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr) const;

    void mark_unregistered(const std::string& token, std::int64_t timestamp_ms) const;
    void mark_bad(const std::string& token) const;
    void mark_expired(const std::string& token) const;
    void mark_topic(const std::string& token, const std::string& topic) const;  // DeviceTokenNotForTopic elsewhere
    void forget_token(const std::string& token) const;
    // {"kind":"status","status":429,"reason":"TooManyRequests","count":1}, see apns-sim --help.
    std::uint64_t add_fault(const nlohmann::json& rule) const;
    void clear_faults() const;
    void goaway_all(const nlohmann::json& body = nlohmann::json::object()) const;
    void set_clock_offset(std::int64_t seconds) const;
    void reset() const;

    nlohmann::json request_log(std::uint64_t since_seq = 0) const;  // array of entries
    nlohmann::json counters() const;
    nlohmann::json connections() const;
    // Waits until the log's last seq is at least n (seq counts every request since start, across reset).
    bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

    // "apns-sim --listen … --token-key …" as started, for messages.
    std::vector<std::string> command() const;

private:
    ApnsSimOptions options_;
    TempDir dir_;
    std::filesystem::path certs_;
    std::string key_id_;
    std::string team_id_;
    int port_ = 0;
    int control_port_ = 0;
    Process process_;
};

}  // namespace pushsync::test
