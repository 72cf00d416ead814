// SPDX-License-Identifier: BSD-2-Clause
#include "send/message.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

namespace fcm_sim {

namespace {

constexpr std::string_view path_prefix = "/v1/projects/";
constexpr std::string_view path_suffix = "/messages:send";

// What FCM's Message and AndroidConfig know (JSON and proto names): a field outside these is
// Google's "Unknown name"; one inside them but outside pushsync's message is fcm-sim's refusal.
constexpr std::array<std::string_view, 11> message_fields = {"name", "data", "notification", "android", "webpush",
                                                             "apns", "fcm_options", "fcmOptions", "token", "topic",
                                                             "condition"};
constexpr std::array<std::string_view, 11> android_fields = {
    "collapse_key", "collapseKey", "priority", "ttl", "restricted_package_name", "restrictedPackageName", "data",
    "notification", "fcm_options", "fcmOptions", "direct_boot_ok"};

template <std::size_t N>
bool known(const std::array<std::string_view, N>& fields, const std::string& name) {
    return std::find(fields.begin(), fields.end(), name) != fields.end();
}

MessageCheck refuse(FcmError e) {
    MessageCheck c;
    c.error = std::move(e);
    return c;
}

FcmError unknown_name(const std::string& name, const std::string& at) {
    return invalid_argument("Invalid JSON payload received. Unknown name \"" + name + "\" at '" + at + "': Cannot find field.", at);
}

FcmError not_pushsync(const std::string& field, const std::string& why) {
    return invalid_argument("fcm-sim: " + field + " " + why + " (docs/api.md, \"What reaches FCM (1.2)\")", field);
}

FcmError invalid_value(const std::string& field, const std::string& type, const nlohmann::json& value) {
    return invalid_argument("Invalid value at '" + field + "' (" + type + "), " + value.dump(), field);
}

}  // namespace

std::optional<std::string> send_path_project(std::string_view path) {
    if (path.size() <= path_prefix.size() + path_suffix.size() || path.substr(0, path_prefix.size()) != path_prefix ||
        path.substr(path.size() - path_suffix.size()) != path_suffix) {
        return std::nullopt;
    }
    auto project = path.substr(path_prefix.size(), path.size() - path_prefix.size() - path_suffix.size());
    if (project.find('/') != std::string_view::npos) return std::nullopt;
    return std::string(project);
}

bool is_duration(std::string_view s) noexcept {
    if (s.size() < 2 || s.back() != 's') return false;
    s.remove_suffix(1);
    const auto dot = s.find('.');
    const auto whole = s.substr(0, dot);
    auto digits = [](std::string_view d) { return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; }); };
    if (whole.empty() || !digits(whole)) return false;
    if (dot == std::string_view::npos) return true;
    const auto frac = s.substr(dot + 1);
    return !frac.empty() && frac.size() <= 9 && digits(frac);
}

bool is_registration_token(std::string_view s) noexcept {
    return !s.empty() && s.size() <= 4096 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == ':' || c == '.';
    });
}

MessageCheck check_message(const std::string& content_type, const std::string& body) {
    if (content_type.rfind("application/json", 0) != 0) {
        return refuse(invalid_argument("fcm-sim: content-type must be application/json, not \"" + content_type + "\"", ""));
    }
    auto root = nlohmann::ordered_json::parse(body, nullptr, false);
    if (root.is_discarded()) return refuse(invalid_argument("Invalid JSON payload received. Unexpected token.", ""));
    if (!root.is_object()) return refuse(invalid_argument("Invalid JSON payload received. Expected an object.", ""));
    for (const auto& [name, value] : root.items()) {
        if (name != "message" && name != "validate_only" && name != "validateOnly") return refuse(unknown_name(name, ""));
        if (name != "message") return refuse(not_pushsync(name, "is not sent by pushsync"));
    }
    if (!root.contains("message") || !root["message"].is_object()) {
        return refuse(invalid_argument("Request contains an invalid argument.", "message"));
    }
    const auto& m = root["message"];
    for (const auto& [name, value] : m.items()) {
        if (!known(message_fields, name)) return refuse(unknown_name(name, "message"));
        if (name != "token" && name != "data" && name != "android") {
            return refuse(not_pushsync("message." + name, "is valid FCM but not in pushsync's message"));
        }
    }
    MessageCheck c;
    if (!m.contains("token")) return refuse(invalid_argument("Recipient of the message is not set.", "message"));
    if (!m["token"].is_string()) return refuse(invalid_value("message.token", "TYPE_STRING", m["token"]));
    c.message.token = m["token"].get<std::string>();

    if (!m.contains("data")) return refuse(not_pushsync("message.data", "is missing"));
    const auto& data = m["data"];
    if (!data.is_object()) return refuse(invalid_value("message.data", "type.googleapis.com/google.protobuf.Struct", data));
    int index = 0;
    for (const auto& [name, value] : data.items()) {
        if (!value.is_string()) {
            return refuse(invalid_value("message.data[" + std::to_string(index) + "].value", "TYPE_STRING", value));
        }
        ++index;
    }
    for (const auto& [name, value] : data.items()) {
        if (name != "tail") return refuse(not_pushsync("message.data." + name, "is not pushsync's (only \"tail\")"));
    }
    if (!data.contains("tail")) return refuse(not_pushsync("message.data.tail", "is missing"));
    c.message.tail = data["tail"].get<std::string>();

    if (!m.contains("android")) return refuse(not_pushsync("message.android", "is missing"));
    const auto& android = m["android"];
    if (!android.is_object()) {
        return refuse(invalid_value("message.android", "type.googleapis.com/google.firebase.fcm.v1.AndroidConfig", android));
    }
    for (const auto& [name, value] : android.items()) {
        if (!known(android_fields, name)) return refuse(unknown_name(name, "message.android"));
        if (name != "priority" && name != "ttl" && name != "collapse_key") {
            return refuse(not_pushsync("message.android." + name, "is valid FCM but not in pushsync's message"));
        }
    }
    const std::string priority_type = "type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority";
    if (!android.contains("priority")) return refuse(not_pushsync("message.android.priority", "is missing"));
    const auto& priority = android["priority"];
    if (!priority.is_string()) return refuse(invalid_value("message.android.priority", priority_type, priority));
    c.message.priority = priority.get<std::string>();
    if (c.message.priority != "normal" && c.message.priority != "high" && c.message.priority != "NORMAL" &&
        c.message.priority != "HIGH") {
        return refuse(invalid_value("message.android.priority", priority_type, priority));
    }
    const std::string duration_type = "type.googleapis.com/google.protobuf.Duration";
    if (!android.contains("ttl")) return refuse(not_pushsync("message.android.ttl", "is missing"));
    const auto& ttl = android["ttl"];
    if (!ttl.is_string() || !is_duration(ttl.get<std::string>())) {
        return refuse(invalid_value("message.android.ttl", duration_type, ttl));
    }
    c.message.ttl = ttl.get<std::string>();
    if (!android.contains("collapse_key")) return refuse(not_pushsync("message.android.collapse_key", "is missing"));
    const auto& collapse = android["collapse_key"];
    if (!collapse.is_string()) return refuse(invalid_value("message.android.collapse_key", "TYPE_STRING", collapse));
    c.message.collapse_key = collapse.get<std::string>();
    if (c.message.collapse_key != "pushsync") {
        return refuse(not_pushsync("message.android.collapse_key", "is not \"pushsync\""));
    }
    if (!is_registration_token(c.message.token)) return refuse(invalid_registration_token());
    c.message.compact = root.dump() == body;
    return c;
}

}  // namespace fcm_sim
