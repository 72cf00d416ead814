// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target: any bytes as one line of `pushsyncctl import`. A line is either refused with
// std::invalid_argument or becomes a device the API itself would accept, and that device
// survives export and import unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "shared/device.hpp"
#include "shared/validation.hpp"

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    pushsync::Device device;
    try {
        device = pushsync::device_from_json(line);
    } catch (const std::invalid_argument&) {
        return 0;
    }
    require(pushsync::is_valid_token(device.token) && pushsync::normalize_token(device.token) == device.token);
    require(pushsync::is_valid_group(device.group));
    require(!device.bundle_id.empty());
    require(device.app_version.empty() || pushsync::is_valid_app_version(device.app_version));
    require(pushsync::device_from_json(pushsync::device_to_json(device)) == device);
    return 0;
}
