// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/api/responses.hpp"

#include "ngx_module/api/list.hpp"

namespace pushsync::api {

std::string group_body(std::string_view group, const std::vector<Device>& devices) {
    return group_page_body(group, devices, true, {});
}

std::string notify_body(std::string_view status, std::size_t devices) {
    // The hot path of notify: the status is one of our own words, so no escaping is needed.
    std::string out = "{\"status\":\"";
    out += status;
    out += "\",\"devices\":";
    out += std::to_string(devices);
    out += '}';
    return out;
}

}  // namespace pushsync::api
