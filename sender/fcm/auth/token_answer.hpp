// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What the token endpoint's answer to an assertion means (docs/fcm.md §1): an access token and
// its lifetime, a refusal of the credentials (for the operator), or a failure to be counted and
// retried. The endpoint is another party's server, a simulator's or a proxy's: nothing it sends
// may crash the sender or put raw bytes into a log line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pushsync::sender::fcm {

// Google's tokens last 3599 s; a day is already more than any endpoint grants.
inline constexpr std::int64_t max_token_lifetime_s = 24 * 60 * 60;
// Google's answer is about 1 KB.
inline constexpr std::size_t max_token_answer_bytes = 64 * 1024;
// The token goes into an HTTP/2 header field; Google's are about 1 KB.
inline constexpr std::size_t max_access_token_bytes = 8 * 1024;

struct TokenAnswer {
    enum class Kind {
        token,        // 200 with a usable token: access_token, expires_in_s
        credentials,  // 400/401 with an OAuth error: the assertion was refused; reason is the
                      // operator's alert text ("invalid_grant: Invalid JWT Signature.")
        failed,       // anything else: count it, retry later; reason says why
    };
    Kind kind = Kind::failed;
    int status = 0;  // the HTTP status; 0 when there was no answer
    std::string access_token;
    std::int64_t expires_in_s = 0;
    // One line, escaped (shared/log_escape.hpp) and cut to a few hundred bytes: ready for a log
    // line's quoted field or an alert.
    std::string reason;
};

// `status` 0: the request got no answer (connection refused, reset, timeout); `body` is then
// ignored. A 200 needs a JSON object with "access_token" (1 to max_access_token_bytes of
// RFC 6750 b64token characters: [A-Za-z0-9-._~+/] then '='s), "expires_in" (a whole number, 1 to
// max_token_lifetime_s) and "token_type" "Bearer" (any case, RFC 6749 §5.1). Never throws:
// anything else, out of memory included, is Kind::failed.
TokenAnswer parse_token_answer(int status, std::string_view body) noexcept;

}  // namespace pushsync::sender::fcm
