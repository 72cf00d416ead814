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

namespace {

// Printable ASCII without '"' and '\\': a JSON string of these is the bytes themselves. What the
// API lets through for a token and a tail is always such text.
bool json_plain(std::string_view text) noexcept {
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
}

}  // namespace

std::string message_body(std::string_view token, std::string_view tail, AndroidPriority priority, std::int64_t ttl_s) {
    const std::string ttl = std::to_string(std::clamp<std::int64_t>(ttl_s, 0, max_ttl_s)) + "s";
    const std::string_view level = priority == AndroidPriority::high ? "high" : "normal";
    if (json_plain(token) && json_plain(tail)) {
        // The one body per push, on the sender's hot path: the same bytes the serialiser below
        // writes, without building a JSON tree for them.
        std::string body;
        body.reserve(128 + token.size() + tail.size());
        body.append(R"({"message":{"token":")").append(token).append(R"(","data":{"tail":")").append(tail);
        body.append(R"("},"android":{"priority":")").append(level).append(R"(","ttl":")").append(ttl);
        body.append(R"(","collapse_key":"pushsync"}}})");
        return body;
    }
    // Serialised, never pasted (as the APNs payload, sender/dispatch/dispatcher.cpp): ordered_json
    // keeps the contract's member order, dump() without indent writes no spaces.
    nlohmann::ordered_json message;
    message["token"] = token;
    message["data"]["tail"] = tail;
    auto& android = message["android"];
    android["priority"] = std::string(level);
    android["ttl"] = ttl;
    android["collapse_key"] = "pushsync";
    nlohmann::ordered_json body;
    body["message"] = std::move(message);
    return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace pushsync::sender::fcm
