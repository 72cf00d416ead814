// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Warnings the sender logs once at start about how it is set up, not about what it delivers:
// an APNs key others could read, and a private CA added for Apple's own endpoints.
#include "sender/logger.hpp"
#include "shared/config/config.hpp"

namespace pushsync::sender {

// Logs `secrets.key_file_readable` for every key file readable by group or others (the sender's
// user alone should read the APNs keys: docs/architecture.md "Trust and ownership"), and
// `apns.ca_file_with_apple` when apns.ca_file is set while an endpoint is Apple's
// (api.push.apple.com, api.sandbox.push.apple.com): the file adds to the system's trust, so it
// lets whoever holds that CA speak for Apple.
void warn_about_setup(const Config& config, Logger& log);

}  // namespace pushsync::sender
