// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// FCM HTTP v1's error answers (docs/fcm.md §3): Google's JSON error body, with the FcmError
// errorCode a sender acts on, and what else Google puts in details.
#include <nlohmann/json.hpp>
#include <string>

namespace fcm_sim {

struct FcmError {
    int code = 400;               // the HTTP status
    std::string status;           // google.rpc.Code name: INVALID_ARGUMENT, NOT_FOUND, ...
    std::string message;
    std::string error_code;       // FcmError.errorCode; "" = no FcmError detail (401, 403 PERMISSION_DENIED)
    nlohmann::ordered_json extra_details = nlohmann::ordered_json::array();  // google.rpc.BadRequest, ErrorInfo
    int retry_after_s = 0;        // > 0: a retry-after header

    std::string body() const;
};

// The registration token is gone (404), not a token (400), another project's (403).
FcmError unregistered();
FcmError invalid_registration_token();
FcmError sender_id_mismatch();
// The body is not pushsync's message; field is the JSON path ("message.android.ttl").
FcmError invalid_argument(const std::string& message, const std::string& field);
FcmError quota_exceeded(int retry_after_s);
FcmError unavailable(int retry_after_s);
FcmError internal();
// 401 with google.rpc.ErrorInfo reason CREDENTIALS_MISSING, ACCESS_TOKEN_EXPIRED, ...
FcmError unauthenticated(const std::string& reason);
// 403 for a valid token of another project: Google's IAM answer, no FcmError.
FcmError permission_denied(const std::string& project_id);
FcmError not_found(const std::string& message);

}  // namespace fcm_sim
