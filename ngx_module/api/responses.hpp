// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Success bodies of docs/api.md that are more than one device object.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "shared/device.hpp"

namespace pushsync::api {

// {"group": "…", "devices": [device, …]}: one page with full tokens (ngx_module/api/list.hpp has the listing).
std::string group_body(std::string_view group, const std::vector<Device>& devices);
// {"status": "queued"|"nothing_to_notify"|"disabled", "devices": N}
std::string notify_body(std::string_view status, std::size_t devices);

}  // namespace pushsync::api
