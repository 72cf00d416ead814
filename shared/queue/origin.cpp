// SPDX-License-Identifier: BSD-2-Clause
#include "shared/queue/origin.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "shared/base64url.hpp"
#include "shared/queue/layout.hpp"
#include "shared/validation.hpp"

namespace pushsync {

namespace {
constexpr std::size_t hashed_length = 44;  // '~' + 43 base64url characters of 32 bytes
}  // namespace

std::string queued_origin(std::string_view token) {
    if (token.size() <= queue_layout::kMaxOrigin) return std::string(token);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(token.data(), token.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 of an origin failed (OpenSSL)");
    }
    return "~" + base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

bool is_valid_queued_origin(std::string_view origin) noexcept {
    if (origin.size() <= queue_layout::kMaxOrigin && is_valid_device_token(origin)) return true;
    if (origin.size() != hashed_length || origin[0] != '~') return false;
    for (char c : origin.substr(1)) {
        const bool b64url = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!b64url) return false;
    }
    return true;
}

bool is_origin(std::string_view origin, std::string_view token) {
    if (origin.empty()) return false;
    if (origin[0] != '~') return origin == token;
    return token.size() > queue_layout::kMaxOrigin && queued_origin(token) == origin;
}

}  // namespace pushsync
