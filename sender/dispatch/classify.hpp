// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What an APNs answer means for a push (docs/apns.md §4, docs/architecture.md "Failure semantics").
#include <string_view>

namespace pushsync::sender {

enum class Verdict {
    delivered,       // 200
    unregistered,    // 410: prune unless registered again after the timestamp
    token_rejected,  // 400 BadDeviceToken / DeviceTokenNotForTopic: prune for that environment
    retry,           // 429, 5xx, 400 IdleTimeout, 403 ExpiredProviderToken, no answer (status 0)
    failed,          // other 4xx, 413: the request itself is wrong; never resent
    credentials,     // 403 credential errors: hold the app's pushes, alert the operator
};

Verdict classify(int status, std::string_view reason) noexcept;
std::string_view to_string(Verdict verdict) noexcept;

}  // namespace pushsync::sender
