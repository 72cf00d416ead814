// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A round: the notifies of one group merged by the coalescer, fanned out as one push per device.
#include <cstdint>
#include <string>
#include <vector>

namespace pushsync::sender {

struct Round {
    std::uint64_t id = 0;  // assigned by the Ledger when the round opens
    std::string group;
    std::string tail;    // the newest notify's
    std::string origin;  // the newest notify's; left out of the fan-out
    std::vector<std::uint64_t> entry_ids;  // outbox ids merged into this round
    std::int64_t first_enqueued_ms = 0;    // the oldest notify's, for latency logs
};

}  // namespace pushsync::sender
