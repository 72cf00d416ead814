// SPDX-License-Identifier: BSD-2-Clause
#include "sender/dispatch/backoff.hpp"

#include <algorithm>

namespace pushsync::sender {

std::int64_t Backoff::cap_ms(std::uint32_t failures) const noexcept {
    if (failures == 0) failures = 1;
    std::int64_t cap = base_ms_;
    for (std::uint32_t i = 1; i < failures && cap < max_ms_; ++i) cap *= 2;
    return std::min<std::int64_t>(cap, max_ms_);
}

std::int64_t Backoff::delay_ms(std::uint32_t failures) {
    const std::int64_t cap = cap_ms(failures);
    const std::int64_t half = cap / 2;
    const double r = std::clamp(random_.uniform(), 0.0, 1.0);
    return std::min<std::int64_t>(cap, half + static_cast<std::int64_t>(r * static_cast<double>(cap - half)));
}

}  // namespace pushsync::sender
