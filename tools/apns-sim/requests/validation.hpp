// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The stateless request checks of docs/apns.md §2, in pushy's order, each answering APNs' exact status
// and reason. Authentication (stateful, per connection) is in connection_auth.hpp.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "requests/device_registry.hpp"
#include "options.hpp"

namespace apns_sim {

struct Rejection {
    int status = 400;
    std::string reason;
    std::int64_t timestamp_ms = -1;  // 410 Unregistered only
};

// A request as received on one stream.
struct Request {
    std::string method;
    std::string path;
    std::optional<std::string> authorization;
    std::optional<std::string> apns_id;
    std::optional<std::string> apns_topic;
    std::optional<std::string> apns_push_type;
    std::optional<std::string> apns_priority;
    std::optional<std::string> apns_expiration;
    std::optional<std::string> apns_collapse_id;
    bool duplicate_header = false;
    std::vector<std::pair<std::string, std::string>> apns_headers;  // for the log
    std::string body;               // up to a cap; body_size counts everything
    std::size_t body_size = 0;

    // Records one header; knows which ones must not repeat.
    void add_header(std::string_view name, std::string_view value);
};

// What the header checks found, for the later stages.
struct Checked {
    std::string token;        // lowercase
    std::string topic;        // as sent, or the certificate's default topic
    std::string bundle;       // topic without the push type's suffix
    std::string push_type;    // "alert" when absent
    int priority = 10;
};

struct TopicPolicy {
    bool topic_required = true;      // token auth, or a multi-topic certificate
    std::string default_topic;       // single-topic certificate
};

// DuplicateHeaders .. BadTopic (everything before the registry).
std::optional<Rejection> check_headers(const Request& r, const TopicPolicy& policy, const Options& opt, Checked& out);
// BadDeviceToken (marked / other environment) .. DeviceTokenNotForTopic.
std::optional<Rejection> check_registry(const Checked& c, const DeviceRegistry& registry, const Options& opt);
// PayloadEmpty, PayloadTooLarge, and the optional strict background rule.
std::optional<Rejection> check_payload(const Request& r, const Checked& c, const Options& opt);

bool is_lowercase_uuid(std::string_view s) noexcept;

}  // namespace apns_sim
