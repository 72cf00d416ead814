// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Everything the FCM connections and the control API share: owned by main, passed by reference.
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

#include "auth/access_tokens.hpp"
#include "auth/service_account.hpp"
#include "faults.hpp"
#include "log.hpp"
#include "options.hpp"
#include "send/token_marks.hpp"
#include "tools/sim-common/log/counters.hpp"
#include "tools/sim-common/sim_clock.hpp"

namespace fcm_sim {

struct Simulator {
    explicit Simulator(const Options& o)
        : opt(o), accounts(o.service_accounts), tokens(o.seed), faults(o.seed), log(o.log_file, o.log_memory),
          rng(o.seed ^ 0x9e3779b97f4a7c15ull) {}

    const Options& opt;
    sim::SimClock clock;
    ServiceAccounts accounts;
    AccessTokens tokens;
    TokenMarks marks;
    Faults faults;
    RequestLog log;
    sim::Counters counters;
    std::mt19937_64 rng;

    // The id part of a message name, in FCM's shape: 0:<microseconds>%<16 hex digits>.
    std::string new_message_id(std::int64_t received_us) {
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
        return "0:" + std::to_string(received_us) + "%" + hex;
    }
};

}  // namespace fcm_sim
