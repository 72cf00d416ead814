// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fcm/error_table.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "shared/log_escape.hpp"

namespace pushsync::sender::fcm {

namespace {

using nlohmann::json;

constexpr std::string_view fcm_error_type = "type.googleapis.com/google.firebase.fcm.v1.FcmError";

std::string string_member(const json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string shown(std::string_view value, std::size_t limit) {
    std::string text = log_escape(value.substr(0, limit));
    if (value.size() > limit) text += "...";
    return text;
}

bool contains_ignoring_case(std::string_view text, std::string_view part) {
    return std::search(text.begin(), text.end(), part.begin(), part.end(), [](unsigned char a, unsigned char b) {
               return std::tolower(a) == std::tolower(b);
           }) != text.end();
}

// FCM's words for a registration token it cannot parse (as firebase-admin and Sygnal read
// them): "The registration token is not a valid FCM registration token". Any other
// INVALID_ARGUMENT is about the message we built.
bool names_invalid_token(std::string_view message) {
    return contains_ignoring_case(message, "registration token is not a valid");
}

FcmAnswer classify(int status, std::string_view retry_after, std::string_view body, std::int64_t sent_unix_ms) {
    FcmAnswer answer;
    const FcmError error = status == 200 ? FcmError{} : parse_fcm_error(body);
    const std::string& code = !error.error_code.empty() ? error.error_code : error.status;
    answer.error_code = shown(code, 64);
    answer.reason = status == 0 ? std::string("no answer") : std::to_string(status);
    if (!answer.error_code.empty()) answer.reason += " " + answer.error_code;
    if (!error.message.empty()) answer.reason += ": " + shown(error.message, 200);
    if (status != 0 && status != 200 && !error.parsed) answer.reason += " (no FCM error body)";

    switch (status) {
        case 200: answer.verdict = Verdict::delivered; break;
        case 0: answer.verdict = Verdict::retry; break;
        case 404:
            // Only FCM's own word prunes: a 404 from a proxy or a wrong path says nothing of the token.
            answer.verdict = error.error_code == "UNREGISTERED" ? Verdict::unregistered : Verdict::failed;
            answer.timestamp_ms = sent_unix_ms;
            break;
        case 403:
            if (error.error_code == "SENDER_ID_MISMATCH") {
                answer.verdict = Verdict::token_rejected;
            } else {
                answer.verdict = error.parsed ? Verdict::credentials : Verdict::failed;
            }
            break;
        case 400:
            answer.verdict = code == "INVALID_ARGUMENT" && names_invalid_token(error.message) ? Verdict::token_rejected
                                                                                                : Verdict::failed;
            break;
        case 401: answer.verdict = Verdict::refresh_token; break;
        case 429:
            answer.verdict = Verdict::retry;
            answer.retry_after_ms = std::max(quota_min_wait_ms, parse_retry_after_ms(retry_after));
            break;
        case 503:
            answer.verdict = Verdict::retry;
            answer.retry_after_ms = parse_retry_after_ms(retry_after);
            break;
        default:
            answer.verdict = status >= 500 && status <= 599 ? Verdict::retry : Verdict::failed;
            break;
    }
    if (answer.verdict != Verdict::unregistered) answer.timestamp_ms = 0;
    return answer;
}

}  // namespace

FcmError parse_fcm_error(std::string_view body) noexcept {
    FcmError out;
    try {
        if (body.size() > max_error_body_bytes) return out;
        const json root = json::parse(body, nullptr, /*allow_exceptions=*/false);
        if (!root.is_object()) return out;  // a discarded (broken) parse is no object either
        const auto error = root.find("error");
        if (error == root.end() || !error->is_object()) return out;
        out.parsed = true;
        out.status = string_member(*error, "status");
        out.message = string_member(*error, "message");
        const auto details = error->find("details");
        if (details != error->end() && details->is_array()) {
            for (const json& detail : *details) {
                if (!detail.is_object() || string_member(detail, "@type") != fcm_error_type) continue;
                out.error_code = string_member(detail, "errorCode");
                if (!out.error_code.empty()) break;
            }
        }
    } catch (...) {
        // Out of memory: what was read so far is all there is.
    }
    return out;
}

std::int64_t parse_retry_after_ms(std::string_view value) noexcept {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return 0;
    std::int64_t seconds = 0;
    for (const char c : value) {
        if (c < '0' || c > '9') return 0;
        seconds = std::min<std::int64_t>(seconds * 10 + (c - '0'), max_retry_after_ms / 1000);
    }
    return seconds * 1000;
}

FcmAnswer classify_fcm(int status, std::string_view retry_after, std::string_view body, std::int64_t sent_unix_ms) noexcept {
    try {
        return classify(status, retry_after, body, sent_unix_ms);
    } catch (...) {
        // Out of memory while building the reason: the verdict still stands on the status alone.
        FcmAnswer answer;
        answer.verdict = status == 200 ? Verdict::delivered
                         : status == 0 || status == 429 || (status >= 500 && status <= 599) ? Verdict::retry
                         : status == 401 ? Verdict::refresh_token
                                         : Verdict::failed;
        if (status == 429) answer.retry_after_ms = quota_min_wait_ms;
        return answer;
    }
}

std::string_view to_string(Verdict verdict) noexcept {
    switch (verdict) {
        case Verdict::delivered: return "delivered";
        case Verdict::unregistered: return "unregistered";
        case Verdict::token_rejected: return "token_rejected";
        case Verdict::refresh_token: return "refresh_token";
        case Verdict::retry: return "retry";
        case Verdict::failed: return "failed";
        case Verdict::credentials: return "credentials";
    }
    return "?";
}

}  // namespace pushsync::sender::fcm
