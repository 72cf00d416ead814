// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Escaping of values that came from outside (a request, the queue file, the store, APNs) before
// they go into a log line, so no value can end a line, forge a field or carry terminal escapes.
// Used by the sender's logger and nginx's error log lines alike. Pure functions, noexcept where
// they write into a caller's buffer (nginx frames).
#include <cstddef>
#include <string>
#include <string_view>

namespace pushsync {

// `value` with every byte outside printable ASCII (< 0x20, 0x7f, >= 0x80), and `"` and `\`, written
// as \xHH. Spaces stay: the result is meant for inside double quotes (error="…").
std::string log_escape(std::string_view value);

// `value` as one key=value field's value: as it is when it is non-empty and all of it is printable
// ASCII without space, `"` or `\` (every valid group, tail, token and apns-id), else in double
// quotes with log_escape() applied. Nothing a value holds can make it look like two fields.
std::string log_value(std::string_view value);

// log_value() into `out` (at most `capacity` bytes, no terminating NUL) for callers that must not
// allocate or throw (nginx's log calls): returns the bytes written. A value that does not fit is
// cut at a whole escape and ends in "..." (inside its quotes when quoted).
std::size_t log_value_into(char* out, std::size_t capacity, std::string_view value) noexcept;

}  // namespace pushsync
