// SPDX-License-Identifier: BSD-2-Clause
#include "shared/store/codec.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <limits>
#include <stdexcept>

namespace pushsync::store_codec {
namespace {

// 1: no platform byte (schema 2 and older: an apns device); 2: the platform byte after the
// environment (schema 3).
constexpr std::uint8_t device_format_apns_only = 1;
constexpr std::uint8_t device_format = 2;
constexpr std::uint8_t outbox_format = 1;

}  // namespace

[[noreturn]] void corrupt(std::string_view what) {
    throw StoreError(StoreErrc::corrupt, std::string(what));
}

void put_le(std::string& out, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void put_string(std::string& out, std::string_view text) {
    // Identifiers are far below 64 KiB (validation.hpp); a longer one is a caller's bug.
    if (text.size() > std::numeric_limits<std::uint16_t>::max()) {
        throw std::length_error("store record field longer than 65535 bytes");
    }
    put_le(out, text.size(), 2);
    out.append(text);
}

std::uint64_t Reader::le(int bytes) {
    need(static_cast<std::size_t>(bytes));
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) {
        value |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
    }
    pos_ += static_cast<std::size_t>(bytes);
    return value;
}

std::string Reader::text() {
    auto size = static_cast<std::size_t>(le(2));
    need(size);
    std::string value(bytes_.substr(pos_, size));
    pos_ += size;
    return value;
}

void Reader::finish() const {
    if (pos_ != bytes_.size()) corrupt(std::string(what_) + ": trailing bytes");
}

void Reader::need(std::size_t size) const {
    if (bytes_.size() - pos_ < size) corrupt(std::string(what_) + ": truncated");
}

std::string encode_u32(std::uint32_t value) {
    std::string out;
    put_le(out, value, 4);
    return out;
}

std::uint32_t decode_u32(std::string_view bytes, std::string_view what) {
    Reader reader(bytes, what);
    auto value = static_cast<std::uint32_t>(reader.le(4));
    reader.finish();
    return value;
}

std::string encode_u64(std::uint64_t value) {
    std::string out;
    put_le(out, value, 8);
    return out;
}

std::uint64_t decode_u64(std::string_view bytes, std::string_view what) {
    Reader reader(bytes, what);
    std::uint64_t value = reader.le(8);
    reader.finish();
    return value;
}

std::string encode_device(const Device& device) {
    std::string out;
    out.reserve(2 + 16 + 6 + device.group.size() + device.bundle_id.size() + device.app_version.size());
    out.push_back(static_cast<char>(device_format));
    out.push_back(static_cast<char>(device.environment));
    out.push_back(static_cast<char>(device.platform));
    put_le(out, static_cast<std::uint64_t>(device.registered_at_ms), 8);
    put_le(out, static_cast<std::uint64_t>(device.last_seen_ms), 8);
    put_string(out, device.group);
    put_string(out, device.bundle_id);
    put_string(out, device.app_version);
    return out;
}

Device decode_device(std::string_view token, std::string_view record) {
    std::string what = "device record of " + std::string(token);
    Reader reader(record, what);
    const auto format = reader.le(1);
    if (format != device_format && format != device_format_apns_only) corrupt(what + ": unknown record format");
    auto environment = reader.le(1);
    if (environment > static_cast<std::uint8_t>(Environment::sandbox)) corrupt(what + ": bad environment");
    Device device;
    device.token = std::string(token);
    device.environment = static_cast<Environment>(environment);
    if (format == device_format) {
        // webpush is not built: a record naming it is not this version's to deliver.
        const auto platform = reader.le(1);
        if (platform > static_cast<std::uint8_t>(Platform::fcm)) corrupt(what + ": bad platform");
        device.platform = static_cast<Platform>(platform);
    }
    device.registered_at_ms = static_cast<std::int64_t>(reader.le(8));
    device.last_seen_ms = static_cast<std::int64_t>(reader.le(8));
    device.group = reader.text();
    device.bundle_id = reader.text();
    device.app_version = reader.text();
    reader.finish();
    if (device.group.empty()) corrupt(what + ": empty group");
    return device;
}

std::string encode_outbox(const OutboxEntry& entry) {
    std::string out;
    out.push_back(static_cast<char>(outbox_format));
    put_le(out, static_cast<std::uint64_t>(entry.enqueued_ms), 8);
    put_string(out, entry.group);
    put_string(out, entry.tail);
    put_string(out, entry.origin);
    return out;
}

OutboxEntry decode_outbox(std::uint64_t id, std::string_view record) {
    std::string what = "outbox entry " + std::to_string(id);
    Reader reader(record, what);
    if (reader.le(1) != outbox_format) corrupt(what + ": unknown record format");
    OutboxEntry entry;
    entry.id = id;
    entry.enqueued_ms = static_cast<std::int64_t>(reader.le(8));
    entry.group = reader.text();
    entry.tail = reader.text();
    entry.origin = reader.text();
    reader.finish();
    return entry;
}

std::string outbox_key(std::uint64_t id) {
    std::string key(8, '\0');
    for (int i = 0; i < 8; ++i) key[static_cast<std::size_t>(i)] = static_cast<char>((id >> (8 * (7 - i))) & 0xff);
    return key;
}

std::uint64_t outbox_id(std::string_view key) {
    if (key.size() != 8) corrupt("outbox key of " + std::to_string(key.size()) + " bytes");
    std::uint64_t id = 0;
    for (char c : key) id = (id << 8) | static_cast<unsigned char>(c);
    return id;
}

std::string group_prefix(std::string_view group) {
    std::string prefix;
    prefix.reserve(group.size() + 1);
    prefix.append(group);
    prefix.push_back('\0');
    return prefix;
}

std::string group_key(std::string_view group, std::string_view token) {
    std::string key = group_prefix(group);
    key.append(token);
    return key;
}

std::pair<std::string_view, std::string_view> split_group_key(std::string_view key) {
    auto separator = key.find('\0');
    if (separator == std::string_view::npos || separator == 0) corrupt("group index key without separator");
    return {key.substr(0, separator), key.substr(separator + 1)};
}

std::string derived_key(std::string_view secret, std::string_view label) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(label.data()), label.size(), mac, &length) == nullptr) {
        throw std::runtime_error("HMAC-SHA-256 failed");
    }
    return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string order_key(std::string_view group, std::string_view secret, std::string_view token) {
    std::string key = group_prefix(group);
    key.append(derived_key(secret, token));
    return key;
}

}  // namespace pushsync::store_codec
