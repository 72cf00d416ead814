// SPDX-License-Identifier: BSD-2-Clause
#include "options.hpp"

#include "pushsync_version.hpp"

#include <charconv>
#include <iostream>

namespace fcm_sim {

namespace {

template <typename T>
T parse_number(const std::string& flag, const std::string& v) {
    T out{};
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || p != v.data() + v.size()) throw OptionsError(flag + ": not a number: '" + v + "'");
    return out;
}

void parse_host_port(const std::string& flag, const std::string& v, std::string& host, int& port) {
    auto colon = v.rfind(':');
    if (colon == std::string::npos) throw OptionsError(flag + ": expected HOST:PORT, got '" + v + "'");
    host = v.substr(0, colon);
    port = parse_number<int>(flag, v.substr(colon + 1));
}

}  // namespace

bool parse_options(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        std::string value;
        bool inline_value = false;
        if (auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = flag.substr(eq + 1);
            flag = flag.substr(0, eq);
            inline_value = true;
        }
        if (flag == "--help" || flag == "-h") {
            std::cout << help_text();
            return false;
        }
        if (flag == "--version") {
            std::cout << "fcm-sim " << pushsync::version << '\n';
            return false;
        }
        if (flag == "--quiet") {
            o.quiet = true;
            continue;
        }
        if (!inline_value) {
            if (i + 1 >= argc) throw OptionsError("unknown option or missing value: '" + flag + "' (see --help)");
            value = argv[++i];
        }
        if (flag == "--listen") parse_host_port(flag, value, o.listen_host, o.listen_port);
        else if (flag == "--control") parse_host_port(flag, value, o.control_host, o.control_port);
        else if (flag == "--cert") o.cert_file = value;
        else if (flag == "--key") o.key_file = value;
        else if (flag == "--service-account") o.service_accounts.push_back(value);
        else if (flag == "--token-lifetime-s") o.token_lifetime_s = parse_number<std::int64_t>(flag, value);
        else if (flag == "--clock-skew-s") o.clock_skew_s = parse_number<std::int64_t>(flag, value);
        else if (flag == "--max-streams") o.max_streams = parse_number<std::uint32_t>(flag, value);
        else if (flag == "--initial-window") o.initial_window = parse_number<std::uint32_t>(flag, value);
        else if (flag == "--idle-timeout") o.idle_timeout_s = parse_number<double>(flag, value);
        else if (flag == "--log") o.log_file = value;
        else if (flag == "--log-memory") o.log_memory = parse_number<std::size_t>(flag, value);
        else if (flag == "--seed") o.seed = parse_number<std::uint64_t>(flag, value);
        else throw OptionsError("unknown option '" + flag + "' (see --help)");
    }
    if (o.cert_file.empty() || o.key_file.empty()) throw OptionsError("--cert and --key are required (see tools/devcerts)");
    if (o.service_accounts.empty()) throw OptionsError("--service-account is required (a service account JSON file)");
    if (o.token_lifetime_s <= 0) throw OptionsError("--token-lifetime-s must be positive");
    return true;
}

std::string help_text() {
    return R"(fcm-sim: a local FCM HTTP v1 and its OAuth token endpoint (HTTP/2 over TLS, ALPN h2) for tests
and benchmarks (docs/fcm.md).

Usage: fcm-sim --cert server.pem --key server.key --service-account sa.json [options]

Options:
  --listen HOST:PORT          FCM and token endpoint (127.0.0.1:2297)
  --control HOST:PORT         control API, plain HTTP/1.1 JSON (127.0.0.1:2298; port 0 = off)
  --cert FILE --key FILE      TLS server certificate and key (PEM), as apns-sim's
  --service-account FILE      a Google service account JSON file (repeatable: several accounts and
                              projects). Its private_key gives the public key assertions must verify
                              with; kid must be its private_key_id, iss and sub its client_email, aud
                              its token_uri; its project_id is the project its tokens send for
  --token-lifetime-s N        expires_in of issued access tokens (3599)
  --clock-skew-s N            how far an assertion's iat may lie in the future (60)
  --max-streams N             SETTINGS_MAX_CONCURRENT_STREAMS (100)
  --initial-window N          SETTINGS_INITIAL_WINDOW_SIZE (65535)
  --idle-timeout S            GOAWAY NO_ERROR after S seconds without a frame (0 = never)
  --log FILE                  request log, one JSON line per request (appended)
  --log-memory N              request log entries kept for GET /log (100000)
  --seed N                    seed for rate faults, access tokens and message ids (1)
  --quiet                     no connection event lines on stderr
  --help, --version

POST /token (application/x-www-form-urlencoded grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
&assertion=JWT), checks in order: content-type, grant_type (400 unsupported_grant_type), assertion
present, three base64url JSON parts, alg RS256, typ JWT (400 invalid_grant), iss a configured
client_email (invalid_grant "Invalid grant: account not found"), kid = private_key_id and the RS256
signature (invalid_grant "Invalid JWT Signature."), sub = iss (401 unauthorized_client), aud =
token_uri (invalid_grant "Failed audience check"), scope includes
https://www.googleapis.com/auth/firebase.messaging (400 invalid_scope), iat and exp integers with
iat < exp <= iat + 3600, exp in the future, iat at most --clock-skew-s ahead (invalid_grant "Token must
be a short-lived token ..."). Good: 200 {"access_token":"ya29.sim....","expires_in":N,"token_type":"Bearer"}.

POST /v1/projects/{project_id}/messages:send, checks in order: method and path (404 NOT_FOUND);
authorization "Bearer <token>": missing (401, ErrorInfo CREDENTIALS_MISSING), not issued here (401
ACCESS_TOKEN_TYPE_UNSUPPORTED), expired (401 ACCESS_TOKEN_EXPIRED), issued for another project (403
PERMISSION_DENIED, no FcmError); content-type application/json; the body exactly pushsync's message
{"message":{"token":..,"data":{"tail":..},"android":{"priority":"high|normal","ttl":"<N>s",
"collapse_key":"pushsync"}}}: unknown fields, non-string data values, a bad ttl or priority, a missing
token (FCM's texts), or a field FCM knows but pushsync never sends ("fcm-sim: ..."): 400
INVALID_ARGUMENT; a token with characters outside [A-Za-z0-9_:.-]: 400 INVALID_ARGUMENT "The
registration token is not a valid FCM registration token"; the token's mark (control API); then
faults. Good: 200 {"name":"projects/{project_id}/messages/0:<n>%<hex>"}.
Error bodies: {"error":{"code":N,"message":..,"status":..,"details":[{"@type":
"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":..}, ...]}}.

Control API (JSON bodies and answers):
  GET  /health                 {"ok":true,"now_ms":..,"connections":..,"projects":[..]}
  POST /tokens/{token}         {"state":"unregistered","timestamp_ms":N} (404 UNREGISTERED for sends
                               received at or after N; default now) | {"state":"invalid"} (400) |
                               {"state":"sender_id_mismatch"} (403) | {"state":"valid"}
  POST /tokens                 {"<token>": {mark as above}, ...};  DELETE /tokens/{token};  GET /tokens
  POST /faults                 add a rule, answers {"id":N}. "kind": quota (429 QUOTA_EXCEEDED) |
                               unavailable (503 UNAVAILABLE) | internal (500 INTERNAL) | token_down
                               (503 on /token) | goaway | delay | silence; "count": N (default 1;
                               -1 = every), "rate": 0..1 (default 1), "token": only sends to it,
                               "on": "send" (default) | "token" (goaway, delay, silence; token_down is
                               always /token), "retry_after_s" (quota 60, unavailable 30; 0 = no
                               retry-after header), "delay_ms", "last_stream_id" (goaway; default the
                               stream before), "error_code" (goaway, 0), "debug" (goaway debug data).
                               Faults apply to requests that pass every check above.
  GET  /faults; DELETE /faults
  POST /goaway                 {"last_stream_id":N,"error_code":0,"debug":".."} on every connection
  GET  /access_tokens          issued tokens;  POST /access_tokens/expire  every one expires now
  GET  /log?since=SEQ          request log entries (JSON array) with seq > SEQ
  GET  /counters               requests, status and errorCode counts, tokens_issued, faults_<kind>,
                               send_bodies_not_compact, connections, goaways, ...
  GET  /connections            open connections
  POST /clock                  {"offset_s":N}: the simulator's clock runs N seconds ahead; GET /clock
  POST /reset                  forget marks, faults, issued tokens, log, counters, clock offset
)";
}

}  // namespace fcm_sim
