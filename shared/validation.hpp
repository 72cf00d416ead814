// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The identifier rules of docs/api.md ("Identifiers"). Pure functions, no allocation.
#include <string>
#include <string_view>

namespace pushsync {

inline constexpr std::size_t max_group_length = 128;
inline constexpr std::size_t max_tail_length = 128;
inline constexpr std::size_t min_token_length = 16;
inline constexpr std::size_t max_token_length = 200;
inline constexpr std::size_t max_app_version_length = 64;
inline constexpr std::size_t max_body_bytes = 4096;

// 1-128 of A-Z a-z 0-9 . _ ~ -
bool is_valid_group(std::string_view group) noexcept;
// hex digits, even length, 16-200 of them, either case
bool is_valid_token(std::string_view token) noexcept;
// 1-128 of A-Z a-z 0-9 . _ ~ : + / = -
bool is_valid_tail(std::string_view tail) noexcept;
// 1-64 printable ASCII (0x20-0x7e)
bool is_valid_app_version(std::string_view version) noexcept;
// the lowercase form a valid token is stored and returned in
std::string normalize_token(std::string_view token);

}  // namespace pushsync
