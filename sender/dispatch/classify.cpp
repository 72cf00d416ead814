// SPDX-License-Identifier: BSD-2-Clause
#include "sender/dispatch/classify.hpp"

namespace pushsync::sender {

Verdict classify(int status, std::string_view reason) noexcept {
    if (status == 200) return Verdict::delivered;
    if (status == 0) return Verdict::retry;  // timeout, lost connection, reset stream
    if (status == 410) return Verdict::unregistered;
    if (status == 400) {
        if (reason == "BadDeviceToken" || reason == "DeviceTokenNotForTopic") return Verdict::token_rejected;
        if (reason == "IdleTimeout") return Verdict::retry;
        return Verdict::failed;
    }
    if (status == 403) {
        // The client refreshes an expired JWT itself; the push just goes again.
        if (reason == "ExpiredProviderToken") return Verdict::retry;
        return Verdict::credentials;
    }
    if (status == 429 || status >= 500) return Verdict::retry;
    return Verdict::failed;  // 404, 405, 413 and other client errors
}

std::string_view to_string(Verdict verdict) noexcept {
    switch (verdict) {
        case Verdict::delivered: return "delivered";
        case Verdict::unregistered: return "unregistered";
        case Verdict::token_rejected: return "token_rejected";
        case Verdict::retry: return "retry";
        case Verdict::failed: return "failed";
        case Verdict::credentials: return "credentials";
    }
    return "?";
}

}  // namespace pushsync::sender
