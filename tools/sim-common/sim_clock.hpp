// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A simulator's notion of "now": real time plus an offset that tests move through the control
// API, so rules about ages and expiries (JWT ages, token lifetimes) are testable without waiting.
#include <chrono>
#include <cstdint>

namespace sim {

class SimClock {
public:
    std::int64_t now_ms() const noexcept {
        auto real = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
        return real + offset_ms_;
    }
    std::int64_t now_s() const noexcept { return now_ms() / 1000; }
    std::int64_t offset_s() const noexcept { return offset_ms_ / 1000; }
    void set_offset_s(std::int64_t s) noexcept { offset_ms_ = s * 1000; }

private:
    std::int64_t offset_ms_ = 0;
};

}  // namespace sim
