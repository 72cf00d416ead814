// Request bodies: the JSON is parsed without exceptions (nlohmann's non-throwing parse) and every
// field is checked for type before value, so any byte string maps to one contract answer.
#include "ngx_module/api_body.hpp"

#include <nlohmann/json.hpp>

#include "shared/validation.hpp"

namespace pushsync::api {
namespace {

using nlohmann::json;

ApiError wrong_type(std::string_view field) {
    return make_error(ErrorCode::invalid_field, std::string(field) + " must be a string");
}

char lower_ascii(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The object, or nullopt when the body is not a JSON object.
std::optional<json> parse_object(std::string_view body) {
    json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
    return doc;
}

}  // namespace

std::optional<ApiError> check_content_type(std::optional<std::string_view> content_type) {
    if (!content_type) return std::nullopt;
    std::string_view type = *content_type;
    type = trim(type.substr(0, type.find(';')));
    if (iequals(type, "application/json")) return std::nullopt;
    return make_error(ErrorCode::unsupported_media_type);
}

std::optional<ApiError> check_body_size(std::size_t bytes) {
    if (bytes <= max_body_bytes) return std::nullopt;
    return make_error(ErrorCode::body_too_large);
}

std::variant<RegistrationBody, ApiError> parse_registration_body(std::string_view body) {
    const auto doc = parse_object(body);
    if (!doc) return make_error(ErrorCode::invalid_json);
    RegistrationBody out;

    const auto bundle = doc->find("bundle_id");
    if (bundle == doc->end()) return make_error(ErrorCode::invalid_field, "bundle_id is required");
    if (!bundle->is_string()) return wrong_type("bundle_id");
    // An empty string is a value that names no app: the caller's apps[] lookup answers it with
    // 422 unknown_bundle, as the contract says for any bundle_id not in apps[].
    out.bundle_id = bundle->get<std::string>();

    if (const auto env = doc->find("environment"); env != doc->end()) {
        if (!env->is_string()) return wrong_type("environment");
        const auto parsed = parse_environment(env->get_ref<const std::string&>());
        if (!parsed) return make_error(ErrorCode::invalid_environment);
        out.environment = *parsed;
    }

    if (const auto version = doc->find("app_version"); version != doc->end()) {
        if (!version->is_string()) return wrong_type("app_version");
        out.app_version = version->get<std::string>();
        if (!is_valid_app_version(out.app_version)) {
            return make_error(ErrorCode::invalid_field, "app_version must be 1-64 printable ASCII characters");
        }
    }
    return out;
}

std::variant<NotifyBody, ApiError> parse_notify_body(std::string_view body) {
    const auto doc = parse_object(body);
    if (!doc) return make_error(ErrorCode::invalid_json);
    NotifyBody out;

    const auto tail = doc->find("tail");
    if (tail == doc->end()) return make_error(ErrorCode::invalid_tail, "tail is required");
    if (!tail->is_string()) return wrong_type("tail");
    out.tail = tail->get<std::string>();
    if (!is_valid_tail(out.tail)) {
        return make_error(ErrorCode::invalid_tail);
    }

    if (const auto origin = doc->find("origin"); origin != doc->end()) {
        if (!origin->is_string()) return wrong_type("origin");
        const auto& text = origin->get_ref<const std::string&>();
        if (!is_valid_token(text)) {
            return make_error(ErrorCode::invalid_token, "origin must be a device token: 16-200 hex digits, even length");
        }
        out.origin = normalize_token(text);
    }
    return out;
}

}  // namespace pushsync::api
