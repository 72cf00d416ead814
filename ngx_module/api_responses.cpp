#include "ngx_module/api_responses.hpp"

#include <nlohmann/json.hpp>

namespace pushsync::api {

std::string group_body(std::string_view group, const std::vector<Device>& devices) {
    // device_to_json already gives each object; splice them rather than re-parse.
    std::string out = "{\"group\":" + nlohmann::json(std::string(group)).dump() + ",\"devices\":[";
    for (std::size_t i = 0; i < devices.size(); ++i) {
        if (i) out += ',';
        out += device_to_json(devices[i]);
    }
    out += "]}";
    return out;
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
