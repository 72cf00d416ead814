// SPDX-License-Identifier: BSD-2-Clause
#include "requests/validation.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace apns_sim {

namespace {

struct PushTypeRule {
    std::string_view name;
    std::string_view topic_suffix;
};

// docs/apns.md §2 "Topic by push type". mdm topics are the MDM certificate's UID: no suffix rule.
constexpr std::array<PushTypeRule, 11> push_types = {{
    {"alert", ""},
    {"background", ""},
    {"voip", ".voip"},
    {"complication", ".complication"},
    {"fileprovider", ".pushkit.fileprovider"},
    {"mdm", ""},
    {"location", ".location-query"},
    {"liveactivity", ".push-type.liveactivity"},
    {"pushtotalk", ".voip-ptt"},
    {"widgets", ".push-type.widgets"},
    {"controls", ".push-type.controls"},
}};

bool is_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool valid_token(std::string_view t, const Options& opt) noexcept {
    if (!std::all_of(t.begin(), t.end(), is_hex)) return false;
    if (opt.token_hex_length != 0) return t.size() == opt.token_hex_length;
    return t.size() >= 16 && t.size() <= 200 && t.size() % 2 == 0;
}

bool is_integer(std::string_view s) noexcept {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

bool ends_with(std::string_view s, std::string_view suffix) noexcept {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Rejection bad(std::string reason) { return Rejection{400, std::move(reason), -1}; }

}  // namespace

void Request::add_header(std::string_view name, std::string_view value) {
    auto set = [&](std::optional<std::string>& slot) {
        if (slot) duplicate_header = true;
        slot = std::string(value);
    };
    if (name == ":method") method = value;
    else if (name == ":path") path = value;
    else if (name == "authorization") set(authorization);
    else if (name.rfind("apns-", 0) == 0) {
        apns_headers.emplace_back(name, value);
        if (name == "apns-id") set(apns_id);
        else if (name == "apns-topic") set(apns_topic);
        else if (name == "apns-push-type") set(apns_push_type);
        else if (name == "apns-priority") set(apns_priority);
        else if (name == "apns-expiration") set(apns_expiration);
        else if (name == "apns-collapse-id") set(apns_collapse_id);
    }
}

bool is_lowercase_uuid(std::string_view s) noexcept {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

std::optional<Rejection> check_headers(const Request& r, const TopicPolicy& policy, const Options& opt, Checked& out) {
    if (r.duplicate_header) return bad("DuplicateHeaders");
    if (r.apns_id && !is_lowercase_uuid(*r.apns_id)) return bad("BadMessageId");
    if (r.method != "POST") return Rejection{405, "MethodNotAllowed", -1};
    if (!r.apns_topic || r.apns_topic->empty()) {
        if (policy.topic_required || policy.default_topic.empty()) return bad("MissingTopic");
        out.topic = policy.default_topic;
    } else {
        out.topic = *r.apns_topic;
    }
    if (r.apns_collapse_id && r.apns_collapse_id->size() > 64) return bad("BadCollapseId");
    if (r.apns_priority) {
        if (*r.apns_priority == "10") out.priority = 10;
        else if (*r.apns_priority == "5") out.priority = 5;
        else if (*r.apns_priority == "1") out.priority = 1;
        else return bad("BadPriority");
    }
    out.push_type = r.apns_push_type.value_or("alert");
    auto rule = std::find_if(push_types.begin(), push_types.end(),
                             [&](const PushTypeRule& p) { return p.name == out.push_type; });
    if (rule == push_types.end()) return bad("InvalidPushType");
    if (r.apns_expiration && !is_integer(*r.apns_expiration)) return bad("BadExpirationDate");

    constexpr std::string_view prefix = "/3/device/";
    if (r.path.rfind(prefix, 0) != 0) return Rejection{404, "BadPath", -1};
    std::string_view token = std::string_view(r.path).substr(prefix.size());
    if (token.empty()) return bad("MissingDeviceToken");
    if (!valid_token(token, opt)) return bad("BadDeviceToken");
    out.token.resize(token.size());
    std::transform(token.begin(), token.end(), out.token.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

    if (out.topic.find_first_of(" \t/") != std::string::npos) return bad("BadTopic");
    if (!rule->topic_suffix.empty()) {
        if (!ends_with(out.topic, rule->topic_suffix) || out.topic.size() == rule->topic_suffix.size()) {
            return bad("BadTopic");
        }
        out.bundle = out.topic.substr(0, out.topic.size() - rule->topic_suffix.size());
    } else {
        out.bundle = out.topic;
    }
    return std::nullopt;
}

std::optional<Rejection> check_registry(const Checked& c, const DeviceRegistry& registry, const Options& opt) {
    const DeviceMark* m = registry.find(c.token);
    if (!m) {
        if (opt.require_registered) return bad("BadDeviceToken");
        return std::nullopt;
    }
    switch (m->state) {
        case TokenState::bad: return bad("BadDeviceToken");
        case TokenState::unregistered: return Rejection{410, "Unregistered", m->timestamp_ms};
        case TokenState::expired: return Rejection{410, "ExpiredToken", -1};
        case TokenState::valid: break;
    }
    // A token of the other environment is unknown here: APNs answers BadDeviceToken.
    if (!m->environment.empty() && m->environment != to_string(opt.environment)) return bad("BadDeviceToken");
    if (!m->topic.empty() && m->topic != c.bundle && m->topic != c.topic) return bad("DeviceTokenNotForTopic");
    return std::nullopt;
}

std::optional<Rejection> check_payload(const Request& r, const Checked& c, const Options& opt) {
    if (r.body_size == 0) return bad("PayloadEmpty");
    std::size_t limit = c.push_type == "voip" ? opt.max_voip_payload : opt.max_payload;
    if (r.body_size > limit) return Rejection{413, "PayloadTooLarge", -1};
    if (opt.strict_background && c.push_type == "background" && c.priority == 10) return bad("BadPriority");
    return std::nullopt;
}

}  // namespace apns_sim
