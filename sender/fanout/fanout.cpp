// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fanout/fanout.hpp"

#include "shared/queue/origin.hpp"

namespace pushsync::sender {

FanOutResult FanOut::expand(const Round& round, std::string_view after, std::size_t limit) const {
    FanOutResult result;
    result.resume_after = store_.for_each_in_group(round.group, after, limit, [&](const Device& device) {
        if (is_origin(round.origin, device.token)) {
            result.origin_skipped = true;
            return;
        }
        const auto connection = routes_.find(device.platform, device.bundle_id, device.environment);
        if (!connection) {
            result.unroutable.push_back(device);
            return;
        }
        result.targets.push_back(Target{device.token, device.bundle_id, device.environment, *connection, device.platform});
    });
    return result;
}

}  // namespace pushsync::sender
