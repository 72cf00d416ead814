// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// $pushsync_log_uri: the request line with every device token in it cut to its first 8
// characters and "..." (plain ASCII, so log parsers need no UTF-8), since a token in a log is a
// token handed to everyone who reads the log.
//
// A token is the path segment after `groups/{group}/devices/` (any characters: APNs hex, FCM's
// A-Za-z0-9_-: and Web Push's base64url alike), and the value of a `token` or `after` query
// parameter (the admin page's device search). The path is read as nginx routes it — %XX escapes
// (%2F too) decoded, empty segments merged, "." and ".." resolved — so no spelling of a device
// path that reaches the module keeps its token; a segment that stood at a token's place before a
// ".." took it away is cut too. The rest of the line is left byte for byte.
#include <cstddef>
#include <string>
#include <string_view>

namespace pushsync::api {

inline constexpr std::size_t logged_token_chars = 8;
inline constexpr std::string_view cut_marker = "...";

std::string log_uri(std::string_view request_line);

}  // namespace pushsync::api
