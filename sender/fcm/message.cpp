// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fcm/message.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace pushsync::sender::fcm {

std::string send_path(std::string_view project_id) {
    std::string path = "/v1/projects/";
    path.append(project_id);
    path += "/messages:send";
    return path;
}

std::string message_body(std::string_view token, std::string_view tail, AndroidPriority priority, std::int64_t ttl_s) {
    // Serialised, never pasted (as the APNs payload, sender/dispatch/dispatcher.cpp): ordered_json
    // keeps the contract's member order, dump() without indent writes no spaces.
    nlohmann::ordered_json message;
    message["token"] = token;
    message["data"]["tail"] = tail;
    auto& android = message["android"];
    android["priority"] = priority == AndroidPriority::high ? "high" : "normal";
    android["ttl"] = std::to_string(std::clamp<std::int64_t>(ttl_s, 0, max_ttl_s)) + "s";
    android["collapse_key"] = "pushsync";
    nlohmann::ordered_json body;
    body["message"] = std::move(message);
    return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace pushsync::sender::fcm
