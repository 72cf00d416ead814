// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The opaque `cursor` of a group listing (docs/api.md, "List a group"): where the next page starts,
// readable only by the server that issued it.
//
// A cursor must name the last token of a page exactly (the store seeks past it, so a page never
// repeats or skips a device), yet reveal no token: the listing hands out only 8-hex prefixes, and
// a full token is what `origin`, DELETE and moves rely on. So the cursor is that token sealed with
// AES-256-GCM under a key the server keeps: a random nonce per cursor, the token padded to the
// longest token's length (the cursor's length says nothing about the token's), the group as
// associated data (a cursor of one group is refused in another), and the tag refusing any cursor
// the server did not make. What a holder learns is only that a cursor is one.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pushsync::api {

inline constexpr std::size_t cursor_key_bytes = 32;
using CursorKey = std::array<std::uint8_t, cursor_key_bytes>;

// A fresh random key (the OS's random source); throws std::runtime_error when there is none.
CursorKey random_cursor_key();

// base64url, no padding. `last_token` is a stored (lowercase hex) token.
std::string seal_cursor(const CursorKey& key, std::string_view group, std::string_view last_token);
// The token, or nullopt for anything seal_cursor did not make with this key for this group.
std::optional<std::string> open_cursor(const CursorKey& key, std::string_view group, std::string_view cursor);

}  // namespace pushsync::api
