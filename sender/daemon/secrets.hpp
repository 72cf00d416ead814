// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The sender reads the apps' secret files itself (docs/config.md "Rules"); a file it cannot read is a
// configuration error reported like any other: "FILE:LINE: apps[i].auth.key_file: cannot read
// PATH (reason)".
#include "shared/config/config.hpp"

namespace pushsync::sender {

// Throws ConfigError for the first unreadable key_file / cert_file.
void check_secret_files(const Config& config);

}  // namespace pushsync::sender
