// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fcm/auth/token_answer.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "shared/log_escape.hpp"

namespace pushsync::sender::fcm {

namespace {

using nlohmann::json;
using Kind = TokenAnswer::Kind;

TokenAnswer failed(int status, std::string reason) {
    TokenAnswer answer;
    answer.kind = Kind::failed;
    answer.status = status;
    answer.reason = std::move(reason);
    return answer;
}

// A value from the endpoint, fit for the reason line.
std::string shown(std::string_view value, std::size_t limit) {
    std::string text = log_escape(value.substr(0, limit));
    if (value.size() > limit) text += "...";
    return text;
}

bool is_b64token(std::string_view token) {
    std::size_t i = 0;
    auto token_char = [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    };
    while (i < token.size() && token_char(static_cast<unsigned char>(token[i]))) ++i;
    if (i == 0) return false;
    while (i < token.size() && token[i] == '=') ++i;
    return i == token.size();
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

const std::string* string_member(const json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

TokenAnswer granted(const json& root) {
    const auto token = root.find("access_token");
    if (token == root.end()) return failed(200, "access_token: missing");
    if (!token->is_string()) return failed(200, std::string("access_token: not a string (") + token->type_name() + ")");
    const auto& value = token->get_ref<const std::string&>();
    if (value.empty() || value.size() > max_access_token_bytes) {
        return failed(200, "access_token: " + std::to_string(value.size()) + " bytes, not 1 to " +
                               std::to_string(max_access_token_bytes));
    }
    if (!is_b64token(value)) return failed(200, "access_token: characters an authorization header cannot carry");

    const auto type = root.find("token_type");
    if (type == root.end() || !type->is_string()) return failed(200, "token_type: missing or not a string");
    if (!iequals(type->get_ref<const std::string&>(), "Bearer")) {
        return failed(200, "token_type: \"" + shown(type->get_ref<const std::string&>(), 32) + "\", not \"Bearer\"");
    }

    const auto expires = root.find("expires_in");
    if (expires == root.end()) return failed(200, "expires_in: missing");
    // is_number_integer: 3599.5 or "3599" is not the answer RFC 6749 §5.1 describes.
    if (!expires->is_number_integer()) return failed(200, std::string("expires_in: not a whole number (") + expires->type_name() + ")");
    const bool too_large = expires->is_number_unsigned() && expires->get<std::uint64_t>() > std::uint64_t(max_token_lifetime_s);
    const std::int64_t seconds = too_large ? 0 : expires->get<std::int64_t>();
    if (too_large || seconds <= 0 || seconds > max_token_lifetime_s) {
        return failed(200, "expires_in: " + expires->dump() + ", not 1 to " + std::to_string(max_token_lifetime_s));
    }

    TokenAnswer answer;
    answer.kind = Kind::token;
    answer.status = 200;
    answer.access_token = value;
    answer.expires_in_s = seconds;
    return answer;
}

TokenAnswer parse(int status, std::string_view body) {
    if (status == 0) return failed(0, "no answer");
    if (body.size() > max_token_answer_bytes) {
        return failed(status, "HTTP " + std::to_string(status) + ": answer larger than " +
                                  std::to_string(max_token_answer_bytes) + " bytes");
    }
    const bool oauth_error = status == 400 || status == 401;
    if (status != 200 && !oauth_error) return failed(status, "HTTP " + std::to_string(status));

    const json root = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) return failed(status, "HTTP " + std::to_string(status) + ": answer is not JSON");
    if (!root.is_object()) return failed(status, "HTTP " + std::to_string(status) + ": answer is not a JSON object");
    if (status == 200) return granted(root);

    // RFC 6749 §5.2: {"error": "invalid_grant", "error_description": "…"}.
    const std::string* error = string_member(root, "error");
    if (!error || error->empty()) {
        return failed(status, "HTTP " + std::to_string(status) + ": answer has no OAuth \"error\"");
    }
    TokenAnswer answer;
    answer.kind = Kind::credentials;
    answer.status = status;
    answer.reason = shown(*error, 64);
    if (const std::string* description = string_member(root, "error_description"); description && !description->empty()) {
        answer.reason += ": " + shown(*description, 200);
    }
    return answer;
}

}  // namespace

TokenAnswer parse_token_answer(int status, std::string_view body) noexcept {
    try {
        return parse(status, body);
    } catch (...) {
        // Out of memory, most likely: an answer that cost too much is a failed answer. The
        // reason fits the short-string buffer, so making it allocates nothing.
        TokenAnswer answer;
        answer.status = status;
        try {
            answer.reason = "parse failed";
        } catch (...) {
        }
        return answer;
    }
}

}  // namespace pushsync::sender::fcm
