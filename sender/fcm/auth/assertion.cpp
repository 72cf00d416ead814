// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fcm/auth/assertion.hpp"

#include <nlohmann/json.hpp>

#include "shared/base64url.hpp"

namespace pushsync::sender::fcm {

std::string make_assertion(const ServiceAccount& account, std::int64_t issued_at_s, std::string_view audience) {
    // ordered_json: the members in the order docs/fcm.md shows, compact.
    const nlohmann::ordered_json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", account.private_key_id}};
    const nlohmann::ordered_json claims = {
        {"iss", account.client_email},
        {"sub", account.client_email},
        {"scope", messaging_scope},
        {"aud", audience.empty() ? std::string_view(account.token_uri) : audience},
        {"iat", issued_at_s},
        {"exp", issued_at_s + assertion_lifetime_s},
    };
    // replace: a value the parser let through can never make the dump throw.
    constexpr auto replace = nlohmann::ordered_json::error_handler_t::replace;
    const std::string signing_input =
        base64url_encode(header.dump(-1, ' ', false, replace)) + "." + base64url_encode(claims.dump(-1, ' ', false, replace));
    return signing_input + "." + base64url_encode(account.private_key.sign_rs256(signing_input));
}

std::string token_request_body(std::string_view assertion) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string body = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    body.reserve(body.size() + assertion.size());
    for (const unsigned char c : assertion) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                                c == '_' || c == '.' || c == '~';
        if (unreserved) {
            body += static_cast<char>(c);
        } else {
            body += '%';
            body += hex[c >> 4];
            body += hex[c & 15];
        }
    }
    return body;
}

}  // namespace pushsync::sender::fcm
