// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The byte layout of what the store keeps: device records, outbox entries, group counts and the
// keys of the group index and the outbox. Compact and versioned so a record written by a newer
// layout is recognised, not misread. Decoding failures throw StoreError{corrupt}.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "shared/device.hpp"
#include "shared/store/store.hpp"

namespace pushsync::store_codec {

// The meta database's key for the schema version, and the version this code writes and reads.
// Version 2 added the listing order (`group_order` and the meta's `list_secret`); a writer opening
// a version 1 store fills them in place, and version 1 code refuses a version 2 store, whose
// listing order it would not keep. Version 3 added the device's platform (record format 2): a
// version 2 store's records (format 1) are read as apns devices and rewritten when next written,
// so the upgrade in place only sets the version; version 2 code refuses a version 3 store, whose
// fcm devices it would misread.
inline constexpr std::string_view schema_version_key = "schema_version";
inline constexpr std::uint32_t schema_version = 3;

// The meta database's key for the listing secret: 32 random bytes made once by the first writer.
inline constexpr std::string_view list_secret_key = "list_secret";
inline constexpr std::size_t list_secret_bytes = 32;

// Field helpers shared by every record layout (shared/store/codec.cpp, shared/store/stats.cpp).
[[noreturn]] void corrupt(std::string_view what);  // throws StoreError{corrupt}
void put_le(std::string& out, std::uint64_t value, int bytes);
void put_string(std::string& out, std::string_view text);  // u16 length, then the bytes

// Reads fields in order; any overrun marks the record corrupt.
class Reader {
public:
    Reader(std::string_view bytes, std::string_view what) : bytes_(bytes), what_(what) {}
    std::uint64_t le(int bytes);
    std::string text();
    void finish() const;  // throws corrupt unless every byte was read

private:
    void need(std::size_t size) const;

    std::string_view bytes_;
    std::string_view what_;
    std::size_t pos_ = 0;
};

std::string encode_u32(std::uint32_t value);
std::uint32_t decode_u32(std::string_view bytes, std::string_view what);  // throws corrupt
std::string encode_u64(std::uint64_t value);                               // little-endian
std::uint64_t decode_u64(std::string_view bytes, std::string_view what);   // throws corrupt

// The record of a device without its token (the token is the key).
std::string encode_device(const Device& device);
Device decode_device(std::string_view token, std::string_view record);  // throws corrupt

std::string encode_outbox(const OutboxEntry& entry);  // without the id (the key)
OutboxEntry decode_outbox(std::uint64_t id, std::string_view record);  // throws corrupt
// Big-endian, so LMDB's byte order of keys is the numeric order of ids.
std::string outbox_key(std::uint64_t id);
std::uint64_t outbox_id(std::string_view key);  // throws corrupt

// `group \0 token`: a group's devices are one prefix scan, in token order. Group names never
// contain \0 (validation.hpp), so the prefix of one group never matches another.
std::string group_prefix(std::string_view group);
std::string group_key(std::string_view group, std::string_view token);
// {group, token}; throws corrupt when there is no separator.
std::pair<std::string_view, std::string_view> split_group_key(std::string_view key);

// The listing order's key (docs/api.md 1.2): `group \0 HMAC-SHA-256(secret, token)`, so a group's
// listing is one prefix scan in an order that tells nothing of the tokens to whoever does not hold
// the secret. `secret` is list_secret_bytes long. Throws std::runtime_error if OpenSSL fails.
std::string order_key(std::string_view group, std::string_view secret, std::string_view token);
// HMAC-SHA-256(secret, label): a key for another purpose made from the listing secret.
std::string derived_key(std::string_view secret, std::string_view label);

}  // namespace pushsync::store_codec
