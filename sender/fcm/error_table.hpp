// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What an FCM HTTP v1 answer means for a push (docs/fcm.md §3): the FCM counterpart of
// sender/dispatch/classify.hpp, with the same verdicts where the meaning is the same, so the
// dispatcher treats both platforms alike. The answer is another party's: any status, headers
// and body give a verdict, never an exception or a crash.
#include <cstdint>
#include <string>
#include <string_view>

namespace pushsync::sender::fcm {

enum class Verdict {
    delivered,       // 200
    unregistered,    // 404 UNREGISTERED: prune unless the device registered again after
                     // FcmAnswer::timestamp_ms (as APNs' 410 and Store::prune_unregistered)
    token_rejected,  // 403 SENDER_ID_MISMATCH, 400 INVALID_ARGUMENT that names the registration
                     // token: prune
    refresh_token,   // 401: the access token was refused; AccessTokenCache::on_unauthorized says
                     // whether to send again with a new one or to hold for the operator
    retry,           // 429, 5xx, no answer (status 0): not before retry_after_ms, then backoff
    failed,          // other 400 (our bug: count and log), other 4xx, a 404 or 403 whose body
                     // does not say UNREGISTERED / SENDER_ID_MISMATCH: never resent
    credentials,     // 403 without SENDER_ID_MISMATCH (PERMISSION_DENIED: the service account
                     // may not send for the project): hold the app's pushes, alert the operator
};

struct FcmAnswer {
    Verdict verdict = Verdict::failed;
    // The FcmError detail's errorCode, else error.status ("UNREGISTERED", "INTERNAL"); empty when
    // the body had neither. Escaped (shared/log_escape.hpp) and cut short: fit for a log line.
    std::string error_code;
    // One line for the log: "404 UNREGISTERED: Requested entity was not found.", escaped.
    std::string reason;
    // unregistered: the push's send time (the sent_unix_ms given), which a registration must be
    // newer than to keep the device. FCM's 404 carries no time of its own.
    std::int64_t timestamp_ms = 0;
    // retry: the least wait before sending again. 429: retry-after, at least 60 s (the
    // project's quota is per minute); 503: retry-after; otherwise 0 (the caller's backoff alone).
    std::int64_t retry_after_ms = 0;
};

inline constexpr std::int64_t quota_min_wait_ms = 60'000;
// A longer retry-after is cut to an hour: a push waiting longer would outlive its expiration.
inline constexpr std::int64_t max_retry_after_ms = 3'600'000;
// FCM's error bodies are a few hundred bytes; a larger one is not parsed.
inline constexpr std::size_t max_error_body_bytes = 64 * 1024;

// `retry_after`: the header's value, as received ("" when absent; delta-seconds only, an
// HTTP-date counts as absent). `sent_unix_ms`: when the request went out (wall clock).
FcmAnswer classify_fcm(int status, std::string_view retry_after, std::string_view body, std::int64_t sent_unix_ms) noexcept;

// The error body's parts, for the table and its tests: {"error":{"code":N,"message":"…",
// "status":"…","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError",
// "errorCode":"…"}]}}. Raw (unescaped) values; empty where absent or of the wrong type.
struct FcmError {
    bool parsed = false;  // the body was a JSON object with an "error" object
    std::string status;
    std::string error_code;
    std::string message;
};
FcmError parse_fcm_error(std::string_view body) noexcept;

// delta-seconds ("120") as milliseconds, capped at max_retry_after_ms; 0 when absent or not
// delta-seconds.
std::int64_t parse_retry_after_ms(std::string_view value) noexcept;

std::string_view to_string(Verdict verdict) noexcept;

}  // namespace pushsync::sender::fcm
