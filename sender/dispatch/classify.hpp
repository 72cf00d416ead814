// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What an APNs answer means for a push (docs/apns.md §4, docs/architecture.md "Failure semantics").
#include <string_view>

#include "sender/verdict.hpp"

namespace pushsync::sender {

// 200 delivered; 410 unregistered; 400 BadDeviceToken / DeviceTokenNotForTopic token_rejected;
// 429, 5xx, 400 IdleTimeout, 403 ExpiredProviderToken, status 0 retry; other 403 credentials;
// other 4xx and 413 failed.
Verdict classify(int status, std::string_view reason) noexcept;

}  // namespace pushsync::sender
