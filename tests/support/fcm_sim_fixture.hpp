// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A running tools/fcm-sim for tests: the TLS certificates tools/devcerts makes (the same CA as
// ApnsSimFixture's, so a sender that talks to both trusts one file), one Google service account
// JSON file per project with a fresh RSA key (openssl genpkey) and token_uri pointing at the
// simulator, the simulator started on free loopback ports, and helpers for its control API.
//
// Tests using it must depend on the simulator binary: `add_dependencies(<test> fcm-sim)`.
// The fixture itself needs no OpenSSL; sign assertions with service_account().private_key_file.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/sim_control.hpp"

namespace pushsync::test {

struct FcmSimOptions {
    std::vector<std::string> projects{"pushsync-test"};  // one service account each
    std::int64_t token_lifetime_s = 3599;                 // expires_in of access tokens
    std::uint32_t max_streams = 100;
    std::vector<std::string> extra_args{};                // more fcm-sim flags (see fcm-sim --help)
    bool start = true;                                    // false: call start() yourself
};

struct FcmServiceAccount {
    std::string project_id;
    std::string client_email;
    std::string private_key_id;
    std::filesystem::path file;              // the service account JSON (what a sender is given)
    std::filesystem::path private_key_file;  // its private_key as a PEM file of its own
};

class FcmSimFixture {
public:
    explicit FcmSimFixture(FcmSimOptions options = {});
    ~FcmSimFixture();
    FcmSimFixture(const FcmSimFixture&) = delete;
    FcmSimFixture& operator=(const FcmSimFixture&) = delete;

    // Writes the service account files for the ports chosen, starts the simulator and waits until
    // both ports answer; throws std::runtime_error with its stderr when it does not come up.
    void start();
    void stop();  // SIGTERM, wait
    bool running();

    int port() const noexcept { return port_; }
    pid_t pid() const noexcept { return process_.pid(); }
    int control_port() const noexcept { return control_port_; }
    std::string url() const;        // https://127.0.0.1:PORT
    std::string token_uri() const;  // https://127.0.0.1:PORT/token: every account's token_uri and aud

    std::filesystem::path ca_file() const { return certs_ / "ca.pem"; }
    std::filesystem::path server_cert_file() const { return certs_ / "server.pem"; }
    std::filesystem::path server_key_file() const { return certs_ / "server.key"; }
    const std::vector<FcmServiceAccount>& service_accounts() const noexcept { return accounts_; }
    // The first project's account, or the named project's; throws std::out_of_range.
    const FcmServiceAccount& service_account(const std::string& project_id = "") const;

    std::filesystem::path log_file() const { return dir_ / "requests.jsonl"; }
    std::filesystem::path stderr_file() const { return dir_ / "fcm-sim.log"; }
    const std::filesystem::path& dir() const noexcept { return dir_.path(); }

    // Control API. control() returns status 0 when the simulator does not answer.
    ControlResponse control(const std::string& method, const std::string& path, const std::string& body = "") const;
    // Parses the JSON answer; throws std::runtime_error on a non-200 status.
    nlohmann::json control_json(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr) const;

    void mark_unregistered(const std::string& token, std::int64_t timestamp_ms) const;  // 404 from then on
    void mark_unregistered_now(const std::string& token) const;
    void mark_invalid(const std::string& token) const;              // 400 INVALID_ARGUMENT
    void mark_sender_id_mismatch(const std::string& token) const;   // 403 SENDER_ID_MISMATCH
    void forget_token(const std::string& token) const;
    // {"kind":"quota","retry_after_s":5,"count":1}, see fcm-sim --help.
    std::uint64_t add_fault(const nlohmann::json& rule) const;
    void clear_faults() const;
    void goaway_all(const nlohmann::json& body = nlohmann::json::object()) const;
    void expire_access_tokens() const;  // every issued token answers 401 from now on
    nlohmann::json access_tokens() const;
    void set_clock_offset(std::int64_t seconds) const;
    std::int64_t now_s() const;  // the simulator's clock
    void reset() const;

    nlohmann::json request_log(std::uint64_t since_seq = 0) const;  // array of entries
    nlohmann::json counters() const;
    nlohmann::json connections() const;
    // Waits until the log's last seq is at least n (seq counts every request since start, across reset).
    bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

    std::vector<std::string> command() const;

private:
    void write_service_accounts();

    FcmSimOptions options_;
    TempDir dir_;
    std::filesystem::path certs_;
    std::vector<FcmServiceAccount> accounts_;
    int port_ = 0;
    int control_port_ = 0;
    Process process_;
};

}  // namespace pushsync::test
