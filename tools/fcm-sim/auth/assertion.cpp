// SPDX-License-Identifier: BSD-2-Clause
#include "auth/assertion.hpp"

#include <nlohmann/json.hpp>
#include <openssl/rsa.h>

#include <sstream>

#include "tools/sim-common/base64url.hpp"

namespace fcm_sim {

namespace {

// Google's own texts where it has one (docs/fcm.md §1), so a sender's log reads the same.
constexpr const char* bad_signature = "Invalid JWT Signature.";
constexpr const char* bad_times =
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp "
    "values in the JWT claim.";

OAuthError grant_error(std::string description) { return {400, "invalid_grant", std::move(description)}; }

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> url_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '+') {
            out += ' ';
        } else if (in[i] == '%') {
            if (i + 2 >= in.size()) return std::nullopt;
            const int hi = hex_value(in[i + 1]);
            const int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += in[i];
        }
    }
    return out;
}

std::optional<nlohmann::json> json_part(std::string_view part) {
    auto text = sim::base64url_decode(part);
    if (!text) return std::nullopt;
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    return j;
}

std::string string_claim(const nlohmann::json& j, const char* name) {
    return j.contains(name) && j[name].is_string() ? j[name].get<std::string>() : "";
}

bool has_scope(const std::string& scopes, std::string_view wanted) {
    std::istringstream in(scopes);
    std::string s;
    while (in >> s) {
        if (s == wanted) return true;
    }
    return false;
}

}  // namespace

std::optional<std::map<std::string, std::string>> parse_form(std::string_view body) {
    std::map<std::string, std::string> out;
    std::size_t pos = 0;
    while (pos <= body.size()) {
        auto amp = body.find('&', pos);
        auto part = body.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
        if (!part.empty()) {
            auto eq = part.find('=');
            auto name = url_decode(part.substr(0, eq));
            auto value = url_decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
            if (!name || !value) return std::nullopt;
            out[*name] = *value;
        }
        if (amp == std::string_view::npos) break;
        pos = amp + 1;
    }
    return out;
}

bool verify_rs256(std::string_view signing_input, std::string_view signature, EVP_PKEY* key) {
    if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) return false;
    sim::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1) return false;
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
}

AssertionResult check_token_request(const std::string& content_type, const std::string& body,
                                    const ServiceAccounts& accounts, std::int64_t now_s, std::int64_t skew_s) {
    AssertionResult r;
    if (content_type.rfind("application/x-www-form-urlencoded", 0) != 0) {
        r.error = OAuthError{400, "invalid_request", "fcm-sim: content-type must be application/x-www-form-urlencoded"};
        return r;
    }
    auto form = parse_form(body);
    if (!form) {
        r.error = OAuthError{400, "invalid_request", "fcm-sim: the form body has a bad %-escape"};
        return r;
    }
    auto grant = form->find("grant_type");
    if (grant == form->end()) {
        r.error = OAuthError{400, "invalid_request", "Missing required parameter: grant_type"};
        return r;
    }
    if (grant->second != jwt_bearer_grant) {
        r.error = OAuthError{400, "unsupported_grant_type", "Invalid grant_type: " + grant->second};
        return r;
    }
    auto assertion = form->find("assertion");
    if (assertion == form->end() || assertion->second.empty()) {
        r.error = OAuthError{400, "invalid_request", "Missing required parameter: assertion"};
        return r;
    }
    const std::string_view jwt = assertion->second;
    const auto dot1 = jwt.find('.');
    const auto dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) {
        r.error = grant_error("Invalid JWT: not three dot-separated parts");
        return r;
    }
    auto header = json_part(jwt.substr(0, dot1));
    auto claims = json_part(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
    auto signature = sim::base64url_decode(jwt.substr(dot2 + 1));
    if (!header || !claims || !signature) {
        r.error = grant_error("Invalid JWT: a part is not base64url of a JSON object");
        return r;
    }
    r.kid = string_claim(*header, "kid");
    r.iss = string_claim(*claims, "iss");
    if (string_claim(*header, "alg") != "RS256") {
        r.error = grant_error("Invalid JWT: alg must be RS256");
        return r;
    }
    if (string_claim(*header, "typ") != "JWT") {
        r.error = grant_error("Invalid JWT: typ must be JWT");
        return r;
    }
    const ServiceAccount* account = accounts.find(r.iss);
    if (!account) {
        r.error = grant_error("Invalid grant: account not found");
        return r;
    }
    // Google picks the account's key by kid: another kid is a signature that cannot verify.
    if (r.kid != account->private_key_id) {
        r.error = grant_error(bad_signature);
        return r;
    }
    if (!verify_rs256(jwt.substr(0, dot2), *signature, account->public_key.get())) {
        r.error = grant_error(bad_signature);
        return r;
    }
    if (string_claim(*claims, "sub") != account->client_email) {
        r.error = OAuthError{401, "unauthorized_client",
                             "Client is unauthorized to retrieve access tokens using this method, or client not "
                             "authorized for any of the scopes requested."};
        return r;
    }
    if (string_claim(*claims, "aud") != account->token_uri) {
        r.error = grant_error("Invalid JWT: Failed audience check. The right audience is " + account->token_uri);
        return r;
    }
    const std::string scope = string_claim(*claims, "scope");
    if (scope.empty()) {
        r.error = OAuthError{400, "invalid_scope", "Empty or missing scope not allowed."};
        return r;
    }
    if (!has_scope(scope, fcm_scope)) {
        r.error = OAuthError{400, "invalid_scope", "fcm-sim: scope must include " + std::string(fcm_scope)};
        return r;
    }
    if (!claims->contains("iat") || !claims->contains("exp") || !claims->at("iat").is_number_integer() ||
        !claims->at("exp").is_number_integer()) {
        r.error = grant_error(bad_times);
        return r;
    }
    const auto iat_s = claims->at("iat").get<std::int64_t>();
    const auto exp_s = claims->at("exp").get<std::int64_t>();
    if (exp_s <= iat_s || exp_s - iat_s > 3600 || exp_s <= now_s || iat_s > now_s + skew_s) {
        r.error = grant_error(bad_times);
        return r;
    }
    r.account = account;
    return r;
}

}  // namespace fcm_sim
