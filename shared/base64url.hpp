// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// base64url without padding (RFC 7515 §2): the encoding of every JWS the sender signs (APNs'
// ES256 provider tokens, FCM's RS256 OAuth assertions).
#include <string>
#include <string_view>

namespace pushsync {

std::string base64url_encode(std::string_view bytes);

}  // namespace pushsync
