// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/api/cursor.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

#include "shared/validation.hpp"

namespace pushsync::api {
namespace {

constexpr std::size_t nonce_bytes = 12;
constexpr std::size_t tag_bytes = 16;
constexpr std::size_t token_bytes = max_token_length / 2;
constexpr std::size_t plain_bytes = 1 + token_bytes;  // length, then the token padded with zeros
constexpr std::size_t sealed_bytes = nonce_bytes + plain_bytes + tag_bytes;

constexpr char base64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::span<const std::uint8_t> bytes) {
    std::string out;
    std::uint32_t bits = 0;
    int count = 0;
    for (std::uint8_t b : bytes) {
        bits = (bits << 8) | b;
        count += 8;
        while (count >= 6) {
            count -= 6;
            out += base64url_alphabet[(bits >> count) & 0x3f];
        }
    }
    if (count > 0) out += base64url_alphabet[(bits << (6 - count)) & 0x3f];
    return out;
}

std::optional<std::string> from_base64url(std::string_view text) {
    std::string out;
    std::uint32_t bits = 0;
    int count = 0;
    for (char c : text) {
        int v = -1;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '-') v = 62;
        else if (c == '_') v = 63;
        if (v < 0) return std::nullopt;
        bits = (bits << 6) | static_cast<std::uint32_t>(v);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xff);
        }
    }
    return out;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

CipherCtx new_ctx() {
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    if (!ctx) throw std::bad_alloc();
    return ctx;
}

int size_of(std::size_t n) noexcept {
    return static_cast<int>(n);
}

}  // namespace

CursorKey random_cursor_key() {
    CursorKey key{};
    if (RAND_bytes(key.data(), size_of(key.size())) != 1) throw std::runtime_error("no random source for the cursor key");
    return key;
}

std::string seal_cursor(const CursorKey& key, std::string_view group, std::string_view last_token) {
    if (last_token.size() % 2 != 0 || last_token.size() / 2 > token_bytes) {
        throw std::invalid_argument("seal_cursor: not a stored token");
    }
    std::array<std::uint8_t, plain_bytes> plain{};
    plain[0] = static_cast<std::uint8_t>(last_token.size() / 2);
    for (std::size_t i = 0; i < last_token.size() / 2; ++i) {
        const int hi = hex_value(last_token[2 * i]);
        const int lo = hex_value(last_token[2 * i + 1]);
        if (hi < 0 || lo < 0) throw std::invalid_argument("seal_cursor: not a stored token");
        plain[1 + i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    std::array<std::uint8_t, sealed_bytes> sealed{};
    if (RAND_bytes(sealed.data(), size_of(nonce_bytes)) != 1) throw std::runtime_error("no random source for a cursor");
    const CipherCtx ctx = new_ctx();
    int len = 0;
    const bool ok =
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), sealed.data()) == 1 &&
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(group.data()),
                          size_of(group.size())) == 1 &&
        EVP_EncryptUpdate(ctx.get(), sealed.data() + nonce_bytes, &len, plain.data(), size_of(plain.size())) == 1 &&
        EVP_EncryptFinal_ex(ctx.get(), sealed.data() + nonce_bytes + len, &len) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, size_of(tag_bytes),
                            sealed.data() + nonce_bytes + plain_bytes) == 1;
    if (!ok) throw std::runtime_error("sealing a cursor failed");
    return base64url(sealed);
}

std::optional<std::string> open_cursor(const CursorKey& key, std::string_view group, std::string_view cursor) {
    const auto decoded = from_base64url(cursor);
    if (!decoded || decoded->size() != sealed_bytes || base64url(std::span(
            reinterpret_cast<const std::uint8_t*>(decoded->data()), decoded->size())) != cursor) {
        return std::nullopt;  // only the one spelling seal_cursor makes
    }
    const auto* sealed = reinterpret_cast<const std::uint8_t*>(decoded->data());
    std::array<std::uint8_t, plain_bytes> plain{};
    std::array<std::uint8_t, tag_bytes> tag{};
    std::copy(sealed + nonce_bytes + plain_bytes, sealed + sealed_bytes, tag.begin());
    const CipherCtx ctx = new_ctx();
    int len = 0;
    const bool ok =
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), sealed) == 1 &&
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(group.data()),
                          size_of(group.size())) == 1 &&
        EVP_DecryptUpdate(ctx.get(), plain.data(), &len, sealed + nonce_bytes, size_of(plain_bytes)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, size_of(tag_bytes), tag.data()) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), plain.data() + len, &len) == 1;
    if (!ok) return std::nullopt;
    const std::size_t bytes = plain[0];
    if (bytes * 2 < min_token_length || bytes > token_bytes) return std::nullopt;
    static constexpr char hex[] = "0123456789abcdef";
    std::string token;
    token.reserve(bytes * 2);
    for (std::size_t i = 0; i < bytes; ++i) {
        token += hex[plain[1 + i] >> 4];
        token += hex[plain[1 + i] & 0xf];
    }
    return token;
}

}  // namespace pushsync::api
