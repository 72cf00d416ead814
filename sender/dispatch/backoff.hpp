// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Retry delays: retry_base_ms doubling per attempt, capped at retry_max_ms, with "equal jitter"
// (half fixed, half random) so retries of a burst spread out instead of storming APNs together.
#include <cstdint>

#include "sender/clock.hpp"

namespace pushsync::sender {

class Backoff {
public:
    Backoff(std::uint32_t base_ms, std::uint32_t max_ms, Random& random)
        : base_ms_(base_ms), max_ms_(max_ms < base_ms ? base_ms : max_ms), random_(random) {}

    // A reload's delivery.retry_base_ms / retry_max_ms, for the next retries.
    void configure(std::uint32_t base_ms, std::uint32_t max_ms) noexcept {
        base_ms_ = base_ms;
        max_ms_ = max_ms < base_ms ? base_ms : max_ms;
    }

    // The wait after the `failures`-th failed attempt (1 = after the first). In
    // [cap/2, cap] where cap = min(max_ms, base_ms * 2^(failures-1)).
    std::int64_t delay_ms(std::uint32_t failures);
    std::int64_t cap_ms(std::uint32_t failures) const noexcept;

private:
    std::uint32_t base_ms_;
    std::uint32_t max_ms_;
    Random& random_;
};

}  // namespace pushsync::sender
