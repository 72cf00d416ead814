// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Start-up configuration of fcm-sim: command-line flags (fcm-sim --help).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace fcm_sim {

class OptionsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Options {
    std::string listen_host = "127.0.0.1";
    int listen_port = 2297;
    std::string control_host = "127.0.0.1";
    int control_port = 2298;  // 0 = no control API
    std::string cert_file;
    std::string key_file;
    std::vector<std::string> service_accounts;  // service account JSON files, one or more
    std::int64_t token_lifetime_s = 3599;       // expires_in of the access tokens
    std::int64_t clock_skew_s = 60;             // how far an assertion's iat may lie in the future
    std::uint32_t max_streams = 100;            // SETTINGS_MAX_CONCURRENT_STREAMS
    std::uint32_t initial_window = 65535;
    double idle_timeout_s = 0;                  // GOAWAY after this long without a frame; 0 = never
    std::string log_file;
    std::size_t log_memory = 100000;            // request log entries kept for GET /log
    std::uint64_t seed = 1;                     // rate faults, access tokens, message ids
    bool quiet = false;                         // no per-connection event lines on stderr
};

// Throws OptionsError with a one-line message; returns false when --help or --version was printed.
bool parse_options(int argc, char** argv, Options& out);
std::string help_text();

}  // namespace fcm_sim
