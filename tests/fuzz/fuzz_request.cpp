// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer target: any bytes as (method, path, content type, body) through the module's
// routing and body checks. Every input must map to exactly one contract answer: a route with
// valid identifiers, or an error with a 4xx status and a stable code, whose JSON body parses.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ngx_module/api/body.hpp"
#include "ngx_module/api/route.hpp"
#include "shared/validation.hpp"

using namespace pushsync;
using namespace pushsync::api;

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

// Each step may answer only the errors docs/api.md gives it.
void check_error(const ApiError& e, std::initializer_list<std::string_view> allowed_codes) {
    require(std::find(allowed_codes.begin(), allowed_codes.end(), e.code) != allowed_codes.end());
    require(e.status >= 400 && e.status < 500);
    require(!e.code.empty() && !e.message.empty());
    require((e.status == 405) == !e.allow.empty());
    const auto doc = nlohmann::json::parse(error_body(e), nullptr, false);
    require(doc.is_object() && doc["error"] == e.code);
}

bool is_lower_hex(std::string_view s) {
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    if (input.empty()) return 0;
    static constexpr std::string_view methods[] = {"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"};
    const std::string_view method = methods[static_cast<unsigned char>(input[0]) % 6];
    input.remove_prefix(1);
    // path \n content-type \n body
    const auto nl = input.find('\n');
    const std::string_view path = input.substr(0, nl);
    std::string_view rest = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
    const auto nl2 = rest.find('\n');
    const std::string_view content_type = rest.substr(0, nl2);
    const std::string_view body = nl2 == std::string_view::npos ? std::string_view{} : rest.substr(nl2 + 1);

    const std::string_view group = group_of_path(path);
    require(group.empty() || is_valid_group(group));

    const auto routed = route(method, path);
    if (const auto* e = std::get_if<ApiError>(&routed)) {
        check_error(*e, {"not_found", "method_not_allowed", "invalid_group", "invalid_token"});
        return 0;
    }
    const Route& r = std::get<Route>(routed);
    require(is_valid_group(r.group));
    require(r.group == group);
    if (r.endpoint == Endpoint::register_device || r.endpoint == Endpoint::unregister_device) {
        // Any platform's token; an APNs one (hex) lowercased, another as given.
        require(is_valid_device_token(r.token) && r.token == device_key(r.token_as_given));
        require(!is_valid_token(r.token) || is_lower_hex(r.token));
    }

    if (auto e = check_content_type(content_type.empty() ? std::nullopt : std::optional(content_type))) {
        check_error(*e, {"unsupported_media_type"});
    }
    if (auto e = check_body_size(body.size())) check_error(*e, {"body_too_large"});

    // A body that is not a JSON object has exactly one answer: 400 invalid_json.
    const bool body_is_object = nlohmann::json::parse(body, nullptr, false).is_object();
    if (r.endpoint == Endpoint::register_device) {
        const auto parsed = parse_registration_body(body);
        if (const auto* e = std::get_if<ApiError>(&parsed)) {
            check_error(*e, {"invalid_json", "invalid_field", "invalid_environment"});
            require(body_is_object == (e->code != "invalid_json"));
        } else {
            // bundle_id may be any string, "" included: only the apps[] lookup can tell whether it
            // names an app, and it answers 422 unknown_bundle (docs/api.md). The parser promises
            // a present string field and a valid app_version when one is given.
            const auto& b = std::get<RegistrationBody>(parsed);
            const auto doc = nlohmann::json::parse(body, nullptr, false);
            require(body_is_object && doc.contains("bundle_id") && doc["bundle_id"] == b.bundle_id);
            require(b.app_version.empty() || is_valid_app_version(b.app_version));
            require(b.platform == Platform::apns || b.platform == Platform::fcm);
            require(b.platform == Platform::apns || b.environment == Environment::production);
        }
    } else if (r.endpoint == Endpoint::notify) {
        const auto parsed = parse_notify_body(body);
        if (const auto* e = std::get_if<ApiError>(&parsed)) {
            check_error(*e, {"invalid_json", "invalid_field", "invalid_tail", "invalid_token"});
            require(body_is_object == (e->code != "invalid_json"));
        } else {
            const auto& b = std::get<NotifyBody>(parsed);
            require(body_is_object);
            require(is_valid_tail(b.tail));
            require(b.origin.empty() || (is_valid_device_token(b.origin) && b.origin == device_key(b.origin)));
            require(b.origin.empty() || !is_valid_token(b.origin) || is_lower_hex(b.origin));
        }
    }
    return 0;
}
