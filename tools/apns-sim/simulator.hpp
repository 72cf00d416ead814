// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Everything the APNs connections and the control API share: owned by main, passed by reference.
#include <random>
#include <string>

#include "requests/device_registry.hpp"
#include "faults.hpp"
#include "options.hpp"
#include "requests/log.hpp"
#include "common.hpp"
#include "auth/token_keys.hpp"
#include "auth/token_rate.hpp"

namespace apns_sim {

struct Simulator {
    explicit Simulator(const Options& o)
        : opt(o), keys(o.token_keys), faults(o.seed), log(o.log_file, o.log_memory), token_rate(o.token_rate_limit), rng(o.seed ^ 0x9e3779b97f4a7c15ull) {}

    const Options& opt;
    SimClock clock;
    TokenKeys keys;
    DeviceRegistry registry;
    Faults faults;
    RequestLog log;
    Counters counters;
    TokenRate token_rate;
    std::mt19937_64 rng;

    // A lowercase random (version 4) UUID, as APNs generates for requests without apns-id.
    std::string new_uuid() {
        static constexpr char hex[] = "0123456789abcdef";
        std::uint64_t a = rng(), b = rng();
        a = (a & 0xffffffffffff0fffull) | 0x0000000000004000ull;
        b = (b & 0x3fffffffffffffffull) | 0x8000000000000000ull;
        std::string out;
        out.reserve(36);
        for (int i = 0; i < 32; ++i) {
            std::uint64_t word = i < 16 ? a : b;
            out += hex[(word >> (60 - 4 * (i % 16))) & 0xf];
            if (i == 7 || i == 11 || i == 15 || i == 19) out += '-';
        }
        return out;
    }
};

}  // namespace apns_sim
