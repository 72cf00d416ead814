// SPDX-License-Identifier: BSD-2-Clause
#include "sender/net/transport_log.hpp"

#include <cstdio>

namespace pushsync::sender {

void TransportLogger::operator()(LogLevel level, const std::string& line) const {
    if (sink_) {
        sink_(level, line);
        return;
    }
    if (level == LogLevel::debug) return;  // per-push detail only where a sink asks for it
    static constexpr const char* names[] = {"error", "warn", "info", "debug"};
    // One fprintf per line so lines from different sources do not interleave mid-line.
    std::fprintf(stderr, "[%s] %s\n", names[static_cast<int>(level)], line.c_str());
}

}  // namespace pushsync::sender
