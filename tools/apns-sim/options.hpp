// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Start-up configuration of apns-sim: command-line flags, optionally a YAML file (--config) whose
// keys are the flag names without the leading dashes. Flags given after --config override it.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace apns_sim {

class OptionsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class Environment { production, sandbox };
const char* to_string(Environment env) noexcept;

// --token-key KEYID:TEAMID:PATH[:topic1,topic2[:production|sandbox]]
struct TokenKeySpec {
    std::string key_id;
    std::string team_id;
    std::string path;                 // PKCS#8 private key (.p8) or PEM public key
    std::vector<std::string> topics;  // bundle IDs this key may push to; empty: any
    std::string environment;          // "" = valid in both environments
};

struct Options {
    std::string listen_host = "127.0.0.1";
    int listen_port = 2197;
    std::string control_host = "127.0.0.1";
    int control_port = 2198;  // 0 = no control API
    std::string cert_file;
    std::string key_file;
    std::string ca_file;  // verifies client certificates; empty: every client certificate is bad
    std::vector<TokenKeySpec> token_keys;
    Environment environment = Environment::production;
    std::uint32_t max_streams = 1000;     // MAX_CONCURRENT_STREAMS once authorised
    std::uint32_t initial_streams = 1;    // ... on a token connection before the first valid JWT
    std::uint32_t initial_window = 65535;
    bool drop_limit_after_rejection = false;
    bool lenient_der = false;             // accept DER ECDSA signatures in JWTs
    bool strict_background = false;       // background push with priority 10 -> BadPriority
    bool require_registered = false;      // unknown tokens -> BadDeviceToken
    std::uint32_t token_hex_length = 0;   // 0: even length 16-200; else exactly this many hex digits
    std::uint32_t token_rate_limit = 0;   // pushes per token and second before 429 TooManyRequests; 0 = off
    std::uint32_t max_payload = 4096;
    std::uint32_t max_voip_payload = 5120;
    std::int64_t jwt_max_age_s = 3600;
    std::int64_t token_update_interval_s = 1200;
    double idle_timeout_s = 0;            // GOAWAY {"reason":"IdleTimeout"} after this long without a frame; 0 = never
    std::string log_file;
    std::size_t log_memory = 100000;      // request log entries kept for GET /log
    std::uint64_t seed = 1;               // random faults and generated apns-ids
    bool quiet = false;                   // no per-connection event lines on stderr
};

// Throws OptionsError with a one-line message; returns false when --help was printed.
bool parse_options(int argc, char** argv, Options& out);
TokenKeySpec parse_token_key(const std::string& spec);
std::string help_text();

}  // namespace apns_sim
