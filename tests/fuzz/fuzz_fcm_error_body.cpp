// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target: any FCM answer (the first byte picks the status, the bytes up to the first
// newline are the retry-after header, the rest the body). Every answer gets a verdict that its
// status allows, a printable reason and a bounded wait; only FCM's own words prune; nothing
// crashes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sender/fcm/error_table.hpp"
#include "tests/fuzz/fcm_checks.hpp"

namespace {

namespace fcm = pushsync::sender::fcm;
using fcm::Verdict;

using pushsync::fuzz::printable;
using pushsync::fuzz::require;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static constexpr int statuses[] = {0, 200, 400, 401, 403, 404, 429, 500, 503, 502, 413, 302};
    // By the byte's value modulo 12: '0' (48) picks 0, '1' 200, '2' 400 … '9' 502, ':' 413, ';' 302.
    const int status = statuses[data[0] % (sizeof statuses / sizeof statuses[0])];
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::size_t newline = rest.find('\n');
    const std::string_view retry_after = newline == std::string_view::npos ? std::string_view{} : rest.substr(0, newline);
    const std::string_view body = newline == std::string_view::npos ? rest : rest.substr(newline + 1);
    constexpr std::int64_t sent = 1'800'000'000'000;

    const fcm::FcmAnswer answer = fcm::classify_fcm(status, retry_after, body, sent);
    require(printable(answer.reason) && printable(answer.error_code));
    require(answer.retry_after_ms >= 0 && answer.retry_after_ms <= fcm::max_retry_after_ms);
    require(answer.retry_after_ms == 0 || answer.verdict == Verdict::retry);
    require(answer.timestamp_ms == (answer.verdict == Verdict::unregistered ? sent : 0));

    const fcm::FcmError error = fcm::parse_fcm_error(body);
    switch (answer.verdict) {
        case Verdict::delivered: require(status == 200); break;
        case Verdict::unregistered: require(status == 404 && error.error_code == "UNREGISTERED"); break;
        case Verdict::token_rejected:
            require((status == 403 && error.error_code == "SENDER_ID_MISMATCH") || status == 400);
            break;
        case Verdict::refresh_token: require(status == 401); break;
        case Verdict::retry:
            require(status == 0 || status == 429 || (status >= 500 && status <= 599));
            require(status != 429 || answer.retry_after_ms >= fcm::quota_min_wait_ms);
            break;
        case Verdict::credentials: require(status == 403 && error.parsed); break;
        case Verdict::failed: require(status != 200 && status != 0 && status != 401 && status != 429 && status < 500); break;
    }
    return 0;
}
