// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// POST /v1/projects/{project_id}/messages:send (docs/fcm.md §2): the path, and the body held to
// exactly pushsync's message (docs/api.md, "What reaches FCM (1.2)"), refused the way FCM refuses
// (400 INVALID_ARGUMENT with a google.rpc.BadRequest field) or, for what FCM would take but
// pushsync never sends, with an "fcm-sim:" message.
#include <optional>
#include <string>
#include <string_view>

#include "send/errors.hpp"

namespace fcm_sim {

// The project of a send path; nullopt when the path is not /v1/projects/{id}/messages:send.
std::optional<std::string> send_path_project(std::string_view path);

struct Message {
    std::string token;
    std::string tail;
    std::string priority;
    std::string ttl;
    std::string collapse_key;
    bool compact = false;  // the body is the message's JSON in order without white space, as pushsync sends it
};

struct MessageCheck {
    Message message;
    std::optional<FcmError> error;
};

MessageCheck check_message(const std::string& content_type, const std::string& body);

// google.protobuf.Duration in JSON: ^\d+(\.\d{1,9})?s$
bool is_duration(std::string_view s) noexcept;
// FCM's registration tokens are URL-safe text; anything else is "not a valid FCM registration token".
bool is_registration_token(std::string_view s) noexcept;

}  // namespace fcm_sim
