// SPDX-License-Identifier: BSD-2-Clause
// The identifier rules of docs/api.md ("Identifiers"). Character classes are spelled out rather
// than using <cctype>, whose answers depend on the process locale.
#include "shared/validation.hpp"

namespace pushsync {
namespace {

constexpr bool is_alnum_ascii(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

constexpr bool is_hex_ascii(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr bool is_group_char(char c) noexcept {
    return is_alnum_ascii(c) || c == '.' || c == '_' || c == '~' || c == '-';
}

// An FCM token's alphabet, which holds APNs' hex digits.
constexpr bool is_fcm_token_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == ':';
}

constexpr bool is_tail_char(char c) noexcept {
    return is_group_char(c) || c == ':' || c == '+' || c == '/' || c == '=';
}

template <typename Pred>
bool all_of(std::string_view text, Pred pred) noexcept {
    for (char c : text) {
        if (!pred(c)) return false;
    }
    return true;
}

}  // namespace

bool is_valid_group(std::string_view group) noexcept {
    return !group.empty() && group.size() <= max_group_length && all_of(group, is_group_char);
}

bool is_valid_token(std::string_view token) noexcept {
    return token.size() >= min_token_length && token.size() <= max_token_length && token.size() % 2 == 0 &&
           all_of(token, is_hex_ascii);
}

bool is_valid_fcm_token(std::string_view token) noexcept {
    return token.size() >= min_fcm_token_length && token.size() <= max_fcm_token_length &&
           all_of(token, is_fcm_token_char);
}

bool is_token_prefix(std::string_view text) noexcept {
    return text.size() <= max_fcm_token_length && all_of(text, is_fcm_token_char);
}

TokenProblem platform_token_problem(Platform platform, std::string_view token) noexcept {
    if (platform != Platform::fcm) return is_valid_token(token) ? TokenProblem::none : TokenProblem::not_apns;
    if (!is_valid_fcm_token(token)) return TokenProblem::not_fcm;
    return token.size() > max_stored_token_length ? TokenProblem::too_long_to_store : TokenProblem::none;
}

std::string stored_token(Platform platform, std::string_view token) {
    return platform == Platform::fcm ? std::string(token) : normalize_token(token);
}

bool is_valid_device_token(std::string_view token) noexcept {
    return is_valid_token(token) || is_valid_fcm_token(token);
}

bool is_valid_tail(std::string_view tail) noexcept {
    return !tail.empty() && tail.size() <= max_tail_length && all_of(tail, is_tail_char);
}

bool is_valid_app_version(std::string_view version) noexcept {
    return !version.empty() && version.size() <= max_app_version_length &&
           all_of(version, [](char c) { return c >= 0x20 && c <= 0x7e; });
}

std::string normalize_token(std::string_view token) {
    std::string out(token);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string device_key(std::string_view token) {
    return is_valid_token(token) ? normalize_token(token) : std::string(token);
}

}  // namespace pushsync
