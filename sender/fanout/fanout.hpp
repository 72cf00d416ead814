// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A round's targets: every device of the group but the origin, each with the connection that
// carries its push. Devices whose app is gone from pushsync.yaml or no longer allows their
// environment cannot be pushed: they come back separately, to be counted as failed.
#include <cstddef>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "sender/round.hpp"
#include "sender/fanout/routes.hpp"
#include "shared/store/store.hpp"

namespace pushsync::sender {

struct Target {
    std::string token;
    std::string bundle_id;
    Environment environment = Environment::production;
    std::size_t connection = 0;
    Platform platform = Platform::apns;  // after environment: brace-initialised APNs targets stay apns
};

struct FanOutResult {
    std::vector<Target> targets;
    std::vector<Device> unroutable;
    bool origin_skipped = false;
    std::optional<std::string> resume_after;  // a page ended early: go on after this token
};

class FanOut {
public:
    FanOut(const Store& store, const Routes& routes) : store_(store), routes_(routes) {}
    // The round's devices after token `after`, at most `limit` of them (0: all).
    FanOutResult expand(const Round& round, std::string_view after = {}, std::size_t limit = 0) const;

private:
    const Store& store_;
    const Routes& routes_;
};

}  // namespace pushsync::sender
