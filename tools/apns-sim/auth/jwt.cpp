// SPDX-License-Identifier: BSD-2-Clause
#include "auth/jwt.hpp"

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include <array>

#include "common.hpp"

namespace apns_sim {

namespace {

// DER of the signature as OpenSSL's verifier wants it, from raw r||s.
std::optional<std::string> raw_to_der(const std::string& raw) {
    EcdsaSigPtr sig(ECDSA_SIG_new());
    if (!sig) return std::nullopt;
    auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
    BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
    BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
    if (!r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return std::nullopt;
    }
    int len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (len <= 0) return std::nullopt;
    std::string der(static_cast<std::size_t>(len), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_ECDSA_SIG(sig.get(), &out);
    return der;
}

bool looks_like_der(const std::string& sig) noexcept {
    // SEQUENCE { INTEGER r, INTEGER s }: 0x30 len 0x02 ...; at most 72 bytes for P-256.
    return sig.size() >= 8 && sig.size() <= 72 && static_cast<unsigned char>(sig[0]) == 0x30 &&
           static_cast<unsigned char>(sig[1]) + 2u == sig.size() && sig[2] == 0x02;
}

}  // namespace

std::optional<Jwt> parse_jwt(std::string_view token) {
    auto dot1 = token.find('.');
    if (dot1 == std::string_view::npos) return std::nullopt;
    auto dot2 = token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) return std::nullopt;
    auto header = base64url_decode(token.substr(0, dot1));
    auto claims = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
    auto sig = base64url_decode(token.substr(dot2 + 1));
    if (!header || !claims || !sig) return std::nullopt;
    auto h = nlohmann::json::parse(*header, nullptr, false);
    auto c = nlohmann::json::parse(*claims, nullptr, false);
    if (!h.is_object() || !c.is_object()) return std::nullopt;
    Jwt jwt;
    if (!h.contains("alg") || !h["alg"].is_string() || !h.contains("kid") || !h["kid"].is_string()) return std::nullopt;
    if (!c.contains("iss") || !c["iss"].is_string() || !c.contains("iat") || !c["iat"].is_number_integer()) {
        return std::nullopt;
    }
    jwt.alg = h["alg"].get<std::string>();
    jwt.kid = h["kid"].get<std::string>();
    jwt.iss = c["iss"].get<std::string>();
    jwt.iat = c["iat"].get<std::int64_t>();
    jwt.signing_input = std::string(token.substr(0, dot2));
    jwt.signature = std::move(*sig);
    return jwt;
}

bool verify_es256(const Jwt& jwt, EVP_PKEY* key, bool accept_der) {
    if (jwt.alg != "ES256" || key == nullptr) return false;
    std::optional<std::string> der;
    if (jwt.signature.size() == 64) {
        der = raw_to_der(jwt.signature);
    } else if (accept_der && looks_like_der(jwt.signature)) {
        der = jwt.signature;
    }
    if (!der) return false;
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) return false;
    int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(der->data()), der->size(),
                              reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                              jwt.signing_input.size());
    return rc == 1;
}

}  // namespace apns_sim
