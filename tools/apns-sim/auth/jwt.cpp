// SPDX-License-Identifier: BSD-2-Clause
#include "auth/jwt.hpp"

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include <array>

#include "net/openssl_ptr.hpp"

namespace apns_sim {

namespace {

constexpr std::string_view b64url_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64url_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

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

std::optional<std::string> base64url_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int v = b64url_value(c);
        if (v < 0) return std::nullopt;  // padding and standard-alphabet characters are not JWS
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    if (bits >= 6) return std::nullopt;  // a lone trailing character cannot be base64
    return out;
}

std::string base64url_encode(std::string_view in) {
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char c : in) {
        acc = (acc << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(b64url_alphabet[(acc >> bits) & 0x3f]);
        }
    }
    if (bits > 0) out.push_back(b64url_alphabet[(acc << (6 - bits)) & 0x3f]);
    return out;
}

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
