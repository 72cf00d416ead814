// SPDX-License-Identifier: BSD-2-Clause
#include "options.hpp"

#include "pushsync_version.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>

namespace apns_sim {

const char* to_string(Environment env) noexcept {
    return env == Environment::production ? "production" : "sandbox";
}

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> parts;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            parts.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    parts.push_back(cur);
    return parts;
}

template <typename T>
T number(const std::string& flag, const std::string& v) {
    T out{};
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || p != v.data() + v.size()) {
        throw OptionsError("--" + flag + ": not a number: '" + v + "'");
    }
    return out;
}

bool boolean(const std::string& flag, const std::string& v) {
    if (v == "true" || v == "1" || v == "yes" || v.empty()) return true;
    if (v == "false" || v == "0" || v == "no") return false;
    throw OptionsError("--" + flag + ": not a boolean: '" + v + "'");
}

void host_port(const std::string& flag, const std::string& v, std::string& host, int& port) {
    auto colon = v.rfind(':');
    if (colon == std::string::npos) throw OptionsError("--" + flag + ": expected HOST:PORT, got '" + v + "'");
    host = v.substr(0, colon);
    port = number<int>(flag, v.substr(colon + 1));
}

struct Flag {
    bool takes_value;
    std::function<void(Options&, const std::string&)> apply;
};

const std::map<std::string, Flag>& flags() {
    static const std::map<std::string, Flag> table = {
        {"listen", {true, [](Options& o, const std::string& v) { host_port("listen", v, o.listen_host, o.listen_port); }}},
        {"control", {true, [](Options& o, const std::string& v) { host_port("control", v, o.control_host, o.control_port); }}},
        {"cert", {true, [](Options& o, const std::string& v) { o.cert_file = v; }}},
        {"key", {true, [](Options& o, const std::string& v) { o.key_file = v; }}},
        {"ca", {true, [](Options& o, const std::string& v) { o.ca_file = v; }}},
        {"token-key", {true, [](Options& o, const std::string& v) { o.token_keys.push_back(parse_token_key(v)); }}},
        {"environment", {true, [](Options& o, const std::string& v) {
             if (v == "production") o.environment = Environment::production;
             else if (v == "sandbox") o.environment = Environment::sandbox;
             else throw OptionsError("--environment: expected production or sandbox, got '" + v + "'");
         }}},
        {"max-streams", {true, [](Options& o, const std::string& v) { o.max_streams = number<std::uint32_t>("max-streams", v); }}},
        {"initial-streams", {true, [](Options& o, const std::string& v) { o.initial_streams = number<std::uint32_t>("initial-streams", v); }}},
        {"initial-window", {true, [](Options& o, const std::string& v) { o.initial_window = number<std::uint32_t>("initial-window", v); }}},
        {"drop-limit-after-rejection", {false, [](Options& o, const std::string& v) { o.drop_limit_after_rejection = boolean("drop-limit-after-rejection", v); }}},
        {"lenient-der", {false, [](Options& o, const std::string& v) { o.lenient_der = boolean("lenient-der", v); }}},
        {"strict-background", {false, [](Options& o, const std::string& v) { o.strict_background = boolean("strict-background", v); }}},
        {"require-registered", {false, [](Options& o, const std::string& v) { o.require_registered = boolean("require-registered", v); }}},
        {"token-hex-length", {true, [](Options& o, const std::string& v) { o.token_hex_length = number<std::uint32_t>("token-hex-length", v); }}},
        {"token-rate-limit", {true, [](Options& o, const std::string& v) { o.token_rate_limit = number<std::uint32_t>("token-rate-limit", v); }}},
        {"max-payload", {true, [](Options& o, const std::string& v) { o.max_payload = number<std::uint32_t>("max-payload", v); }}},
        {"max-voip-payload", {true, [](Options& o, const std::string& v) { o.max_voip_payload = number<std::uint32_t>("max-voip-payload", v); }}},
        {"jwt-max-age", {true, [](Options& o, const std::string& v) { o.jwt_max_age_s = number<std::int64_t>("jwt-max-age", v); }}},
        {"token-update-interval", {true, [](Options& o, const std::string& v) { o.token_update_interval_s = number<std::int64_t>("token-update-interval", v); }}},
        {"idle-timeout", {true, [](Options& o, const std::string& v) { o.idle_timeout_s = number<double>("idle-timeout", v); }}},
        {"log", {true, [](Options& o, const std::string& v) { o.log_file = v; }}},
        {"log-memory", {true, [](Options& o, const std::string& v) { o.log_memory = number<std::size_t>("log-memory", v); }}},
        {"seed", {true, [](Options& o, const std::string& v) { o.seed = number<std::uint64_t>("seed", v); }}},
        {"quiet", {false, [](Options& o, const std::string& v) { o.quiet = boolean("quiet", v); }}},
    };
    return table;
}

void apply_yaml(Options& o, const std::string& path) {
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::Exception& e) {
        throw OptionsError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    if (!root.IsMap()) throw OptionsError(path + ": expected a mapping of option names");
    for (const auto& item : root) {
        auto name = item.first.as<std::string>();
        auto line = std::to_string(item.first.Mark().line + 1);
        auto it = flags().find(name);
        if (it == flags().end()) throw OptionsError(path + ":" + line + ": unknown option '" + name + "'");
        try {
            if (item.second.IsSequence()) {
                for (const auto& v : item.second) it->second.apply(o, v.as<std::string>());
            } else {
                it->second.apply(o, item.second.as<std::string>());
            }
        } catch (const OptionsError& e) {
            throw OptionsError(path + ":" + line + ": " + e.what());
        } catch (const YAML::Exception& e) {
            throw OptionsError(path + ":" + line + ": " + name + ": " + e.msg);
        }
    }
}

}  // namespace

TokenKeySpec parse_token_key(const std::string& spec) {
    auto parts = split(spec, ':');
    if (parts.size() < 3 || parts.size() > 5) {
        throw OptionsError("--token-key: expected KEYID:TEAMID:PATH[:topic1,topic2[:production|sandbox]], got '" + spec + "'");
    }
    TokenKeySpec k;
    k.key_id = parts[0];
    k.team_id = parts[1];
    k.path = parts[2];
    if (k.key_id.empty() || k.team_id.empty() || k.path.empty()) throw OptionsError("--token-key: empty field in '" + spec + "'");
    if (parts.size() >= 4 && !parts[3].empty()) {
        for (auto& t : split(parts[3], ',')) {
            if (!t.empty()) k.topics.push_back(t);
        }
    }
    if (parts.size() == 5) {
        if (parts[4] != "production" && parts[4] != "sandbox" && !parts[4].empty()) {
            throw OptionsError("--token-key: environment must be production or sandbox in '" + spec + "'");
        }
        k.environment = parts[4];
    }
    return k;
}

bool parse_options(int argc, char** argv, Options& out) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << help_text();
            return false;
        }
        if (arg == "--version") {
            std::cout << "apns-sim " << pushsync::version << '\n';
            return false;
        }
        if (arg.rfind("--", 0) != 0) throw OptionsError("unexpected argument '" + arg + "' (see --help)");
        std::string name = arg.substr(2);
        std::string value;
        bool has_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            has_value = true;
        }
        if (name == "config") {
            if (!has_value) {
                if (i + 1 >= argc) throw OptionsError("--config needs a value");
                value = argv[++i];
            }
            apply_yaml(out, value);
            continue;
        }
        auto it = flags().find(name);
        if (it == flags().end()) throw OptionsError("unknown option '--" + name + "' (see --help)");
        if (it->second.takes_value && !has_value) {
            if (i + 1 >= argc) throw OptionsError("--" + name + " needs a value");
            value = argv[++i];
        }
        it->second.apply(out, value);
    }
    if (out.cert_file.empty() || out.key_file.empty()) throw OptionsError("--cert and --key are required (see tools/devcerts)");
    return true;
}

std::string help_text() {
    return R"(apns-sim: a local APNs provider API (HTTP/2 over TLS, ALPN h2) for tests and benchmarks.

Usage: apns-sim --cert server.pem --key server.key [options]

Options (also as keys of a YAML file given with --config FILE; later flags override it):
  --listen HOST:PORT          APNs endpoint (127.0.0.1:2197)
  --control HOST:PORT         control API, plain HTTP/1.1 JSON (127.0.0.1:2198; port 0 = off)
  --cert FILE --key FILE      TLS server certificate and key (PEM)
  --ca FILE                   CA that verifies client certificates (certificate auth); without it
                              every client certificate is answered BadCertificate
  --token-key KEYID:TEAMID:PATH[:topic1,topic2[:production|sandbox]]   (repeatable)
                              a token-auth key: PATH is the .p8 (PKCS#8) or a PEM public key;
                              topics are the bundle IDs it may push to (empty: any); with an
                              environment, using it on the other one is BadEnvironmentKeyIdInToken
  --environment production|sandbox   the environment served (production); sandbox adds apns-unique-id
  --max-streams N             MAX_CONCURRENT_STREAMS once authorised (1000)
  --initial-streams N         MAX_CONCURRENT_STREAMS on a token connection before the first valid JWT (1)
  --initial-window N          SETTINGS_INITIAL_WINDOW_SIZE (65535; small values test flow control)
  --drop-limit-after-rejection   after a rejected push the limit drops to 1 until the next accepted one
  --lenient-der               accept DER-encoded ECDSA signatures (default: raw r||s only, as RFC 7518)
  --strict-background         apns-push-type background with apns-priority 10 -> 400 BadPriority
  --require-registered        tokens not marked through the control API -> 400 BadDeviceToken
  --token-hex-length N        device tokens must have exactly N hex digits (0: even length 16-200)
  --token-rate-limit N        more than N pushes to one device token within a second -> 429
                              TooManyRequests (0 = off, the default)
  --max-payload N             payload limit (4096); --max-voip-payload N for voip (5120)
  --jwt-max-age S             iat older than this -> 403 ExpiredProviderToken (3600)
  --token-update-interval S   a new JWT on a connection sooner -> 429 TooManyProviderTokenUpdates (1200)
  --idle-timeout S            a connection that sends nothing for S seconds (fractions allowed) gets
                              GOAWAY {"reason":"IdleTimeout"} and is closed (0 = never, the default)
  --log FILE                  request log, one JSON line per request (appended)
  --log-memory N              request log entries kept for GET /log (100000)
  --seed N                    seed for rate faults and generated apns-ids (1)
  --quiet                     no connection event lines on stderr
  --help                      this text
  --version                   print the version (pushsync's)

Request checks, in order (first failure answers): repeated apns-*/authorization header
(400 DuplicateHeaders); apns-id not a lowercase UUID (400 BadMessageId); method not POST
(405 MethodNotAllowed); no apns-topic on a token or multi-topic certificate connection
(400 MissingTopic); apns-collapse-id > 64 bytes (400 BadCollapseId); apns-priority not 10/5/1
(400 BadPriority); unknown apns-push-type (400 InvalidPushType); apns-expiration not an integer
(400 BadExpirationDate); path not /3/device/... (404 BadPath), no token (400 MissingDeviceToken),
malformed token (400 BadDeviceToken); topic without the push type's suffix, e.g. voip without
.voip (400 BadTopic); registry: bad or other environment (400 BadDeviceToken), unregistered
(410 Unregistered + timestamp ms), expired (410 ExpiredToken), registered for another topic
(400 DeviceTokenNotForTopic); authentication: no bearer (403 MissingProviderToken), malformed,
unknown kid, wrong iss, bad or DER signature (403 InvalidProviderToken), key for the other
environment (403 BadEnvironmentKeyIdInToken), iat too old (403 ExpiredProviderToken), another
team than the connection's first (403 UnrelatedKeyIdInToken), a new JWT too soon on the
connection (429 TooManyProviderTokenUpdates), topic not allowed for the key or certificate, or
location with a certificate (400 TopicDisallowed); a client certificate that does not verify
(403 BadCertificate) or names the other environment (403 BadCertificateEnvironment), both
followed by GOAWAY {"reason":...}; payload empty (400 PayloadEmpty) or too large (413
PayloadTooLarge); with --token-rate-limit, too many pushes to one token (429 TooManyRequests).
Opening more streams than MAX_CONCURRENT_STREAMS: GOAWAY PROTOCOL_ERROR with
"Maximum active streams violated for this endpoint.".

Control API (JSON bodies and answers):
  GET  /health                 {"ok":true,...}
  POST /tokens/{token}         {"state":"unregistered","timestamp_ms":N} | {"state":"bad"} |
                               {"state":"expired"} | {"state":"valid","topic":"com.x"} |
                               {"state":"valid","environment":"sandbox"}  (other env -> BadDeviceToken)
  POST /tokens                 {"<token>": {mark as above}, ...}: many at once
  DELETE /tokens/{token}       forget it;  GET /tokens  all marked tokens
  POST /faults                 add a rule, answers {"id":N}. Fields: "kind": status | shutdown |
                               goaway | refused_stream | delay | silence; "count": N (next N matching
                               requests; default 1; -1 = every), "rate": 0..1 (default 1),
                               "token": only this token, "status"/"reason" (kind status, e.g. 429
                               TooManyRequests, 500 InternalServerError, 503 ServiceUnavailable),
                               "delay_ms" (kind delay), "last_stream_id" (goaway; default: before this
                               request), "error_code" (goaway, 0), "debug" (goaway debug data text).
                               Faults apply to requests that pass every check above.
  GET  /faults; DELETE /faults
  POST /goaway                 {"last_stream_id":N,"reason":"Shutdown","error_code":0} on every connection
  GET  /log?since=SEQ          request log entries (JSON array) with seq > SEQ
  GET  /counters               requests, status and reason counts, connections, goaways_sent,
                               stream_limit_violations, streams_refused, streams_reset_by_client,
                               streams_before_settings_ack, priority_frames, pings, idle_timeouts,
                               tls_handshake_failures, sensitive_headers_indexed (:path or
                               authorization not sent "never indexed"), faults_<kind>,
                               goaways_received (a client's GOAWAY NO_ERROR; others
                               goaways_received_with_error), client_graceful_closes (closed after
                               the client's GOAWAY with every stream answered; else
                               client_closes_with_open_streams)
  GET  /connections            open connections (auth, team, stream limit, requests)
  POST /clock                  {"offset_s":N}: the simulator's clock runs N seconds ahead; GET /clock
  POST /reset                  forget marks, faults, log, counters and the clock offset
)";
}

}  // namespace apns_sim
