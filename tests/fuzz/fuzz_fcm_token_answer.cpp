// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target: any answer of the token endpoint (the first byte picks the status, the rest
// is the body), then handed to an AccessTokenCache. A usable token is one an authorization
// header can carry, with a believable lifetime, and the cache serves exactly it; everything else
// is a refusal or a failure with a printable reason; nothing crashes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sender/fcm/auth/access_token_cache.hpp"
#include "sender/fcm/auth/token_answer.hpp"
#include "tests/fuzz/fcm_checks.hpp"

namespace {

using pushsync::sender::fcm::AccessTokenCache;
using pushsync::sender::fcm::TokenAnswer;

using pushsync::fuzz::printable;
using pushsync::fuzz::require;

class StillClock final : public pushsync::sender::Clock {
public:
    std::int64_t now_ms() const override { return 1000; }
    std::int64_t unix_ms() const override { return 1'800'000'000'000; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static constexpr int statuses[] = {0, 200, 400, 401, 403, 429, 500, 503, 302, 404};
    // '0' picks 0 (no answer), '1' 200, '2' 400, '3' 401…: seeds are text.
    const int status = statuses[static_cast<std::uint8_t>(data[0] - '0') % (sizeof statuses / sizeof statuses[0])];
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

    const TokenAnswer answer = pushsync::sender::fcm::parse_token_answer(status, body);
    require(answer.status == status);
    require(printable(answer.reason));
    switch (answer.kind) {
        case TokenAnswer::Kind::token:
            require(status == 200 && answer.reason.empty());
            require(!answer.access_token.empty() && answer.access_token.size() <= pushsync::sender::fcm::max_access_token_bytes);
            require(printable(answer.access_token) && answer.access_token.find(' ') == std::string::npos);
            require(answer.expires_in_s >= 1 && answer.expires_in_s <= pushsync::sender::fcm::max_token_lifetime_s);
            break;
        case TokenAnswer::Kind::credentials:
            require((status == 400 || status == 401) && !answer.reason.empty() && answer.access_token.empty());
            break;
        case TokenAnswer::Kind::failed:
            require(!answer.reason.empty() && answer.access_token.empty());
            break;
    }

    const StillClock clock;
    int alerts = 0;
    AccessTokenCache cache(clock, {[] {}, [&](const std::string& problem) {
                                       require(printable(problem));
                                       ++alerts;
                                   }});
    require(cache.current() == nullptr);
    cache.on_answer(answer);
    const AccessTokenCache::Token* token = cache.current();
    if (answer.kind == TokenAnswer::Kind::token) {
        require(token != nullptr && token->value == answer.access_token && token->generation == 1);
        require(token->expires_at_ms == 1000 + answer.expires_in_s * 1000);
    } else {
        require(token == nullptr && cache.failures() == 1);
        require(alerts == (answer.kind == TokenAnswer::Kind::credentials ? 1 : 0));
    }
    return 0;
}
