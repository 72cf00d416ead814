// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The identifier rules of docs/api.md ("Identifiers"). Pure functions, no allocation.
#include <string>
#include <string_view>

#include "shared/device.hpp"

namespace pushsync {

inline constexpr std::size_t max_group_length = 128;
inline constexpr std::size_t max_tail_length = 128;
inline constexpr std::size_t min_token_length = 16;
inline constexpr std::size_t max_token_length = 200;
inline constexpr std::size_t max_app_version_length = 64;
inline constexpr std::size_t min_fcm_token_length = 32;
inline constexpr std::size_t max_fcm_token_length = 1024;
// What this server's store can key: LMDB takes keys of at most 511 bytes, and a group's index key
// is group (up to 128) + '\0' + token. FCM's tokens are about 160 characters; the contract's 1024 is
// a ceiling, and a longer token is refused at registration (400 invalid_token) rather than failing
// in the store.
inline constexpr std::size_t max_stored_token_length = 511 - max_group_length - 1;
inline constexpr std::size_t max_body_bytes = 4096;

// 1-128 of A-Z a-z 0-9 . _ ~ -
bool is_valid_group(std::string_view group) noexcept;
// An APNs device token: hex digits, even length, 16-200 of them, either case
bool is_valid_token(std::string_view token) noexcept;
// An FCM registration token (1.2): 32-1024 of A-Z a-z 0-9 _ - :, case-sensitive
bool is_valid_fcm_token(std::string_view token) noexcept;
// A token of any platform, as it may appear in a path, an origin or a CLI argument
bool is_valid_device_token(std::string_view token) noexcept;
// A token or the start of one, of any platform (a search): up to 1024 of A-Z a-z 0-9 _ - :
bool is_token_prefix(std::string_view text) noexcept;

// What keeps `token` from being registered as a device of `platform` (apns, and so far anything
// but fcm: is_valid_token; fcm: is_valid_fcm_token and at most max_stored_token_length).
enum class TokenProblem { none, not_apns, not_fcm, too_long_to_store };
TokenProblem platform_token_problem(Platform platform, std::string_view token) noexcept;
// The form a token of `platform` is stored and returned in: apns lowercase, fcm as given.
std::string stored_token(Platform platform, std::string_view token);
// 1-128 of A-Z a-z 0-9 . _ ~ : + / = -
bool is_valid_tail(std::string_view tail) noexcept;
// 1-64 printable ASCII (0x20-0x7e)
bool is_valid_app_version(std::string_view version) noexcept;
// the lowercase form a valid APNs token is stored and returned in
std::string normalize_token(std::string_view token);
// The store's key for a token named without its platform (a path, an origin, the CLI): an APNs
// token's lowercase form, any other token as given. An FCM token is stored as given; one made of
// hex digits alone (FCM's never are: they hold a ':') would be looked up lowercased.
std::string device_key(std::string_view token);

}  // namespace pushsync
