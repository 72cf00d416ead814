// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What a push service's answer means for a push, the same for every platform so the dispatcher
// treats them alike (docs/architecture.md "Failure semantics"). APNs answers are sorted by
// sender/dispatch/classify.hpp; a transport that knows its service's table better (FCM's, whose
// meaning is in the body) hands its verdict back in PushResponse::verdict.
#include <string_view>

namespace pushsync::sender {

enum class Verdict {
    delivered,       // APNs 200, FCM 200
    unregistered,    // APNs 410, FCM 404 UNREGISTERED: prune unless registered again after the
                     // response's timestamp_ms
    token_rejected,  // APNs 400 BadDeviceToken / DeviceTokenNotForTopic, FCM SENDER_ID_MISMATCH
                     // or INVALID_ARGUMENT naming the token: prune for that environment
    retry,           // 429, 5xx, no answer (status 0), APNs IdleTimeout / ExpiredProviderToken:
                     // after max(backoff, the response's retry_after_ms)
    failed,          // the request itself is wrong: never resent
    credentials,     // the app's credentials were refused: hold its pushes, alert the operator
};

std::string_view to_string(Verdict verdict) noexcept;

}  // namespace pushsync::sender
