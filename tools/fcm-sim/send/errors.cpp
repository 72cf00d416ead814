// SPDX-License-Identifier: BSD-2-Clause
#include "send/errors.hpp"

namespace fcm_sim {

namespace {

constexpr const char* fcm_error_type = "type.googleapis.com/google.firebase.fcm.v1.FcmError";

nlohmann::ordered_json bad_request(const std::string& field, const std::string& description) {
    return {{"@type", "type.googleapis.com/google.rpc.BadRequest"},
            {"fieldViolations", nlohmann::ordered_json::array({{{"field", field}, {"description", description}}})}};
}

}  // namespace

std::string FcmError::body() const {
    // In Google's order: code, message, status, details.
    nlohmann::ordered_json details = nlohmann::ordered_json::array();
    if (!error_code.empty()) details.push_back({{"@type", fcm_error_type}, {"errorCode", error_code}});
    for (const auto& d : extra_details) details.push_back(d);
    nlohmann::ordered_json e = {{"code", code}, {"message", message}, {"status", status}};
    if (!details.empty()) e["details"] = details;
    return nlohmann::ordered_json{{"error", e}}.dump();
}

FcmError unregistered() { return {404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"}; }

FcmError invalid_registration_token() {
    const std::string m = "The registration token is not a valid FCM registration token";
    return {400, "INVALID_ARGUMENT", m, "INVALID_ARGUMENT", nlohmann::ordered_json::array({bad_request("message.token", m)})};
}

FcmError sender_id_mismatch() { return {403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"}; }

FcmError invalid_argument(const std::string& message, const std::string& field) {
    return {400, "INVALID_ARGUMENT", message, "INVALID_ARGUMENT", nlohmann::ordered_json::array({bad_request(field, message)})};
}

FcmError quota_exceeded(int retry_after_s) {
    FcmError e{429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Send messages' of service "
               "'fcm.googleapis.com'.", "QUOTA_EXCEEDED"};
    e.retry_after_s = retry_after_s;
    return e;
}

FcmError unavailable(int retry_after_s) {
    FcmError e{503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"};
    e.retry_after_s = retry_after_s;
    return e;
}

FcmError internal() { return {500, "INTERNAL", "Internal error encountered.", "INTERNAL"}; }

FcmError unauthenticated(const std::string& reason) {
    return {401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
            "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "",
            nlohmann::ordered_json::array({{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                                    {"reason", reason},
                                    {"domain", "googleapis.com"},
                                    {"metadata",
                                     {{"service", "fcm.googleapis.com"},
                                      {"method", "google.firebase.fcm.v1.FcmService.SendMessage"}}}}})};
}

FcmError permission_denied(const std::string& project_id) {
    return {403, "PERMISSION_DENIED",
            "Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/"
            "projects/" + project_id + "' (or it may not exist).",
            ""};
}

FcmError not_found(const std::string& message) { return {404, "NOT_FOUND", message, ""}; }

}  // namespace fcm_sim
