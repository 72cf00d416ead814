// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Time and randomness for the pipeline, injectable so coalescing and backoff are unit-testable
// without sleeping.
#include <chrono>
#include <cstdint>
#include <random>

namespace pushsync::sender {

class Clock {
public:
    virtual ~Clock() = default;
    // Monotonic milliseconds: timers, coalescing windows, backoff.
    virtual std::int64_t now_ms() const = 0;
    // Wall-clock milliseconds since the Unix epoch: apns-expiration, logs.
    virtual std::int64_t unix_ms() const = 0;
};

class SystemClock final : public Clock {
public:
    std::int64_t now_ms() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
    std::int64_t unix_ms() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

class Random {
public:
    virtual ~Random() = default;
    virtual double uniform() = 0;  // [0, 1)
};

class SystemRandom final : public Random {
public:
    SystemRandom() : engine_(std::random_device{}()) {}
    double uniform() override { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }

private:
    std::mt19937_64 engine_;
};

}  // namespace pushsync::sender
