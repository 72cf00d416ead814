// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// pushsync.yaml (docs/config.md), shared by the module, the sender and the CLI.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "shared/device.hpp"

namespace pushsync {

inline constexpr const char* default_config_path = "/etc/pushsync/pushsync.yaml";

// what() is one line: "FILE:LINE: KEY: PROBLEM", e.g.
// "pushsync.yaml:14: apps[1].auth.key_file: cannot read /etc/x (No such file or directory)"
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class SyncMode { always, interval };
enum class AuthType { token, certificate, service_account };
enum class AndroidPriority { high, normal };
enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

struct StoreConfig {
    std::string path;
    std::uint64_t map_size = 1ull << 30;
    SyncMode sync = SyncMode::always;
    std::uint32_t sync_interval_ms = 100;
    std::uint32_t max_devices_per_group = 1000;  // 0: no limit
    std::uint32_t reserve_percent = 10;          // of the map, kept free for the sender (0-90)
};

struct QueueConfig {
    std::string path;
    std::uint32_t capacity = 65536;  // a power of two
};

struct DeliveryConfig {
    std::uint32_t coalesce_ms = 200;
    std::uint32_t expiration_s = 3600;
    std::uint32_t max_attempts = 8;
    std::uint32_t retry_base_ms = 500;
    std::uint32_t retry_max_ms = 60000;
    std::uint32_t registration_ttl_days = 90;  // 0 = never
    std::uint32_t device_min_interval_s = 0;   // 0 = off (sender/dispatch/holds.hpp)
};

struct ApnsConfig {
    std::string production = "https://api.push.apple.com:443";
    std::string sandbox = "https://api.sandbox.push.apple.com:443";
    std::string ca_file;  // empty: system CAs only
    int ca_file_line = 0;  // for the sender's credential errors
    std::uint32_t connections = 1;
    std::uint32_t request_timeout_ms = 10000;
    std::uint32_t ping_interval_s = 60;
};

// fcm: (1.2), for every app of platform fcm.
struct FcmConfig {
    std::string endpoint = "https://fcm.googleapis.com:443";
    std::string token_uri;  // empty: the service account file's token_uri
    std::string ca_file;    // as apns.ca_file
    int ca_file_line = 0;
    std::uint32_t connections = 1;    // HTTP/2 connections per service account (at most 64)
    std::uint32_t max_streams = 100;  // requests in flight per connection (1-1000)
    std::uint32_t request_timeout_ms = 10000;
};

struct AppAuth {
    AuthType type = AuthType::token;
    std::string team_id;    // token
    std::string key_id;     // token
    std::string key_file;   // token: the .p8; certificate: the certificate's private key
    std::string cert_file;  // certificate
    std::string file;       // service_account: Google's JSON key file
    int key_file_line = 0;  // for the sender's "cannot read" errors
    int cert_file_line = 0;
    int file_line = 0;
};

struct AppConfig {
    std::string bundle_id;  // apns: the iOS bundle ID; fcm: the Android package name
    Platform platform = Platform::apns;
    bool production = true;  // environments (apns only): which the app's devices may register for
    bool sandbox = true;
    AndroidPriority android_priority = AndroidPriority::high;  // fcm only
    AppAuth auth;  // apns: token | certificate; fcm: service_account
    int line = 0;  // where the entry starts in the file

    bool allows(Environment env) const noexcept {
        return env == Environment::production ? production : sandbox;
    }
};

struct SenderConfig {
    LogLevel log_level = LogLevel::info;
};

struct Config {
    std::string file;  // the path it was loaded from, as given
    StoreConfig store;
    QueueConfig queue;
    DeliveryConfig delivery;
    ApnsConfig apns;
    FcmConfig fcm;
    std::vector<AppConfig> apps;
    SenderConfig sender;

    // A (platform, bundle_id) pair names one app; the same bundle_id may appear once per platform.
    const AppConfig* find_app(Platform platform, std::string_view bundle_id) const noexcept;
    // The apns app of that bundle_id.
    const AppConfig* find_app(std::string_view bundle_id) const noexcept {
        return find_app(Platform::apns, bundle_id);
    }
};

// Parses and checks the file. Never opens secret files (only the sender does, itself).
// Unknown keys, wrong types, bad units, missing required keys: ConfigError.
Config load_config(const std::string& path);
// Same, from text (tests); `file` names it in errors.
Config parse_config(const std::string& yaml_text, const std::string& file);

}  // namespace pushsync
