// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What the FCM fuzz targets check of every result: a broken promise aborts (libFuzzer reports
// it as a crash), and text meant for a log line is printable ASCII.
#include <cstdlib>
#include <string>

namespace pushsync::fuzz {

inline void require(bool condition) {
    if (!condition) std::abort();
}

inline bool printable(const std::string& text) {
    for (const unsigned char c : text)
        if (c < 0x20 || c >= 0x7f) return false;
    return true;
}

}  // namespace pushsync::fuzz
