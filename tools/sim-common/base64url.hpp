// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// base64url without padding (RFC 7515 §2), as JWTs use it.
#include <optional>
#include <string>
#include <string_view>

namespace sim {

// nullopt on padding, a standard-alphabet character, or a length no encoder makes.
std::optional<std::string> base64url_decode(std::string_view in);
std::string base64url_encode(std::string_view in);

}  // namespace sim
