// SPDX-License-Identifier: BSD-2-Clause
// Request bodies: the JSON is read without exceptions (nlohmann's SAX parser, whose errors come back
// as a false return) and every field is checked for type before value, so any byte string maps to
// one contract answer.
#include "ngx_module/api/body.hpp"

#include <array>
#include <optional>

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

// The string fields of a request body, read straight off nlohmann's SAX events: no document is
// built, so a notify costs no allocation beyond the strings it keeps. What a field held decides
// the answer exactly as a parsed document would: the last of duplicate keys wins, and a number,
// null, object or array is "not a string".
template <std::size_t N>
class TopLevelFields : public nlohmann::json_sax<json> {
public:
    enum class Kind { absent, string, other };
    struct Field {
        std::string_view name;
        Kind kind = Kind::absent;
        std::string value;
    };

    explicit TopLevelFields(const std::array<std::string_view, N>& names) {
        for (std::size_t i = 0; i < N; ++i) fields_[i].name = names[i];
    }
    // false when the body is not one JSON object (syntax, trailing bytes, another type at the top).
    bool parse(std::string_view body) {
        if (read_plain(body)) return true;
        return json::sax_parse(body.begin(), body.end(), this, json::input_format_t::json, /*strict=*/true) && object_;
    }
    const Field& operator[](std::size_t i) const noexcept { return fields_[i]; }

    bool null() override { return value(Kind::other); }
    bool boolean(bool) override { return value(Kind::other); }
    bool number_integer(number_integer_t) override { return value(Kind::other); }
    bool number_unsigned(number_unsigned_t) override { return value(Kind::other); }
    bool number_float(number_float_t, const string_t&) override { return value(Kind::other); }
    bool binary(binary_t&) override { return value(Kind::other); }
    bool string(string_t& text) override {
        if (depth_ == 1 && current_ != nullptr) current_->value.swap(text);
        return value(Kind::string);
    }
    bool start_object(std::size_t) override {
        if (depth_ == 0) object_ = true;
        else value(Kind::other);
        ++depth_;
        return true;
    }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override {
        value(Kind::other);  // an array at the top is not an object: object_ stays false
        ++depth_;
        return true;
    }
    bool end_array() override { return close(); }
    bool key(string_t& name) override {
        if (depth_ != 1) return true;
        current_ = nullptr;
        for (Field& f : fields_) {
            if (f.name == name) current_ = &f;
        }
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

private:
    // The usual body, one flat object of printable-ASCII strings without escapes, read directly
    // (nlohmann's lexer copies each string byte by byte). Anything else, valid or not (escapes,
    // other types, nesting, other bytes, bad syntax), returns false and goes to the full parser,
    // so this path never decides differently from it. Writes the fields only when it succeeds.
    bool read_plain(std::string_view body) {
        std::array<std::optional<std::string_view>, N> found{};
        std::size_t i = 0;
        const auto at = [&](char c) { return i < body.size() && body[i] == c; };
        const auto space = [&] {
            while (at(' ') || at('\t') || at('\n') || at('\r')) ++i;
        };
        const auto string = [&](std::string_view& out) {
            if (!at('"')) return false;
            const std::size_t start = ++i;
            for (; i < body.size(); ++i) {
                const auto c = static_cast<unsigned char>(body[i]);
                if (c == '"') {
                    out = body.substr(start, i++ - start);
                    return true;
                }
                if (c < 0x20 || c > 0x7e || c == '\\') return false;
            }
            return false;
        };
        space();
        if (!at('{')) return false;
        ++i;
        space();
        if (at('}')) {
            ++i;
        } else {
            for (;;) {
                std::string_view name, text;
                if (!string(name)) return false;
                space();
                if (!at(':')) return false;
                ++i;
                space();
                if (!string(text)) return false;
                for (std::size_t f = 0; f < N; ++f) {
                    if (fields_[f].name == name) found[f] = text;
                }
                space();
                if (at(',')) {
                    ++i;
                    space();
                    continue;
                }
                if (!at('}')) return false;
                ++i;
                break;
            }
        }
        space();
        if (i != body.size()) return false;
        for (std::size_t f = 0; f < N; ++f) {
            if (!found[f]) continue;
            fields_[f].kind = Kind::string;
            fields_[f].value.assign(*found[f]);
        }
        object_ = true;
        return true;
    }

    bool value(Kind kind) {
        if (depth_ == 1 && current_ != nullptr) {
            current_->kind = kind;
            if (kind != Kind::string) current_->value.clear();
            current_ = nullptr;
        }
        return true;
    }
    bool close() {
        --depth_;
        return true;
    }

    std::array<Field, N> fields_{};
    Field* current_ = nullptr;  // the wanted field whose value comes next
    int depth_ = 0;
    bool object_ = false;
};

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
    TopLevelFields<4> doc({"bundle_id", "environment", "app_version", "platform"});
    if (!doc.parse(body)) return make_error(ErrorCode::invalid_json);
    using Kind = TopLevelFields<4>::Kind;
    const auto& bundle = doc[0];
    const auto& env = doc[1];
    const auto& version = doc[2];
    const auto& platform = doc[3];
    RegistrationBody out;

    if (platform.kind != Kind::absent) {
        if (platform.kind != Kind::string) return wrong_type("platform");
        const auto parsed = parse_platform(platform.value);
        if (!parsed || *parsed == Platform::webpush) {
            return make_error(ErrorCode::invalid_field, "platform must be apns or fcm (webpush is not built yet)");
        }
        out.platform = *parsed;
    }

    if (bundle.kind == Kind::absent) return make_error(ErrorCode::invalid_field, "bundle_id is required");
    if (bundle.kind != Kind::string) return wrong_type("bundle_id");
    // An empty string is a value that names no app: the caller's apps[] lookup answers it with
    // 422 unknown_bundle, as the contract says for any bundle_id not in apps[].
    out.bundle_id = bundle.value;

    if (env.kind != Kind::absent) {
        if (env.kind != Kind::string) return wrong_type("environment");
        const auto parsed = parse_environment(env.value);
        if (!parsed) return make_error(ErrorCode::invalid_environment);
        out.environment = *parsed;
        if (out.platform != Platform::apns && out.environment != Environment::production) {
            return make_error(ErrorCode::invalid_environment, "environment is for apns devices only");
        }
    }

    if (version.kind != Kind::absent) {
        if (version.kind != Kind::string) return wrong_type("app_version");
        out.app_version = version.value;
        if (!is_valid_app_version(out.app_version)) {
            return make_error(ErrorCode::invalid_field, "app_version must be 1-64 printable ASCII characters");
        }
    }
    return out;
}

std::variant<NotifyBody, ApiError> parse_notify_body(std::string_view body) {
    TopLevelFields<2> doc({"tail", "origin"});
    if (!doc.parse(body)) return make_error(ErrorCode::invalid_json);
    using Kind = TopLevelFields<2>::Kind;
    const auto& tail = doc[0];
    const auto& origin = doc[1];
    NotifyBody out;

    if (tail.kind == Kind::absent) return make_error(ErrorCode::invalid_tail, "tail is required");
    if (tail.kind != Kind::string) return wrong_type("tail");
    if (!is_valid_tail(tail.value)) return make_error(ErrorCode::invalid_tail);
    out.tail = tail.value;

    if (origin.kind != Kind::absent) {
        if (origin.kind != Kind::string) return wrong_type("origin");
        if (!is_valid_device_token(origin.value)) {
            return make_error(ErrorCode::invalid_token,
                              "origin must be a device token: 16-200 hex digits (apns) or 32-1024 of A-Z a-z 0-9 _ - : (fcm)");
        }
        out.origin = device_key(origin.value);
    }
    return out;
}

}  // namespace pushsync::api
