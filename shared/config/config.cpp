// SPDX-License-Identifier: BSD-2-Clause
// pushsync.yaml (docs/config.md): the schema, its defaults and its cross-key rules. The generic,
// position-aware reading lives in shared/config/yaml.cpp.
#include "shared/config/config.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "shared/config/yaml.hpp"

namespace pushsync {
namespace {

using config_yaml::Map;

bool is_power_of_two(std::uint32_t n) noexcept { return n != 0 && (n & (n - 1)) == 0; }

void read_store(const Map& root, StoreConfig& store) {
    const Map map = root.child("store", {"path", "map_size", "sync", "sync_interval_ms", "max_devices_per_group",
                                           "reserve_percent"});
    if (!map.has("path")) map.fail_missing("path");
    map.read_string("path", store.path, false);
    map.read_size("map_size", store.map_size);
    store.sync = map.read_choice("sync", {"always", "interval"}, 0) == 0 ? SyncMode::always : SyncMode::interval;
    map.read_u32("sync_interval_ms", store.sync_interval_ms, 1);
    map.read_u32("max_devices_per_group", store.max_devices_per_group);
    // Above 90 % registrations could hardly ever be written; the sender needs some room, not most.
    map.read_u32("reserve_percent", store.reserve_percent, 0, 90);
}

void read_queue(const Map& root, QueueConfig& queue) {
    const Map map = root.child("queue", {"path", "capacity"});
    if (!map.has("path")) map.fail_missing("path");
    map.read_string("path", queue.path, false);
    // The ring's own bounds (shared/queue/layout.hpp): below 2 there is no ring, above 2^22 slots the
    // file passes 2 GiB.
    map.read_u32("capacity", queue.capacity, 2, 1u << 22);
    if (!is_power_of_two(queue.capacity)) {
        map.fail_at("capacity", std::to_string(queue.capacity) + " is not a power of two (e.g. 4096, 65536)");
    }
}

void read_delivery(const Map& root, DeliveryConfig& delivery) {
    if (!root.has("delivery")) return;
    const Map map = root.child("delivery",
                               {"coalesce_ms", "expiration_s", "max_attempts", "retry_base_ms", "retry_max_ms",
                   "registration_ttl_days", "device_min_interval_s"});
    map.read_u32("coalesce_ms", delivery.coalesce_ms);
    map.read_u32("expiration_s", delivery.expiration_s);
    map.read_u32("max_attempts", delivery.max_attempts, 1);
    map.read_u32("retry_base_ms", delivery.retry_base_ms, 1);
    map.read_u32("retry_max_ms", delivery.retry_max_ms, 1);
    map.read_u32("registration_ttl_days", delivery.registration_ttl_days);
    map.read_u32("device_min_interval_s", delivery.device_min_interval_s);
    if (delivery.retry_max_ms < delivery.retry_base_ms) {
        map.fail_at(map.has("retry_max_ms") ? "retry_max_ms" : "retry_base_ms",
                    "retry_max_ms (" + std::to_string(delivery.retry_max_ms) + ") is less than retry_base_ms (" +
                        std::to_string(delivery.retry_base_ms) + ")");
    }
}

void read_endpoint(const Map& map, std::string_view key, std::string& out,
                   std::string_view example = "https://api.push.apple.com:443") {
    map.read_string(key, out, false);
    if (out.rfind("https://", 0) != 0 || out.size() == 8) {
        map.fail_at(key, "expects an https:// URL such as " + std::string(example) + ", got \"" + out + "\"");
    }
}

void read_apns(const Map& root, ApnsConfig& apns) {
    if (!root.has("apns")) return;
    const Map map = root.child("apns",
                               {"production", "sandbox", "ca_file", "connections", "request_timeout_ms", "ping_interval_s"});
    read_endpoint(map, "production", apns.production);
    read_endpoint(map, "sandbox", apns.sandbox);
    map.read_string("ca_file", apns.ca_file, true);
    if (map.has("ca_file")) apns.ca_file_line = map.line_at("ca_file");
    map.read_u32("connections", apns.connections, 1, 64);
    map.read_u32("request_timeout_ms", apns.request_timeout_ms, 1);
    map.read_u32("ping_interval_s", apns.ping_interval_s);
}

void read_fcm(const Map& root, FcmConfig& fcm) {
    if (!root.has("fcm")) return;
    const Map map = root.child("fcm", {"endpoint", "token_uri", "ca_file", "connections", "max_streams",
                                       "request_timeout_ms"});
    if (map.has("endpoint")) read_endpoint(map, "endpoint", fcm.endpoint, "https://fcm.googleapis.com:443");
    map.read_string("token_uri", fcm.token_uri, true);
    if (!fcm.token_uri.empty() && (fcm.token_uri.rfind("https://", 0) != 0 || fcm.token_uri.size() == 8)) {
        map.fail_at("token_uri", "expects \"\" (the service account file's) or an https:// URL, got \"" +
                                     fcm.token_uri + "\"");
    }
    map.read_string("ca_file", fcm.ca_file, true);
    if (map.has("ca_file")) fcm.ca_file_line = map.line_at("ca_file");
    map.read_u32("connections", fcm.connections, 1, 64);
    map.read_u32("max_streams", fcm.max_streams, 1, 1000);
    map.read_u32("request_timeout_ms", fcm.request_timeout_ms, 1);
}

// Bundle IDs are APNs topics and appear in headers and logs: printable ASCII, no spaces.
bool is_plausible_bundle_id(std::string_view id) noexcept {
    for (char c : id) {
        if (c <= 0x20 || c >= 0x7f) return false;
    }
    return !id.empty();
}

void read_environments(const Map& map, AppConfig& app) {
    if (!map.has("environments")) return;
    const YAML::Node list = map.find("environments");
    const std::string path = map.path_of("environments");
    if (!list.IsSequence()) map.fail_at("environments", "expects a list such as [production, sandbox]");
    if (list.size() == 0) map.fail_at("environments", "must name at least one of production, sandbox");
    app.production = false;
    app.sandbox = false;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string item_path = path + "[" + std::to_string(i) + "]";
        const std::string text = config_yaml::scalar_text(map.file(), list[i], item_path, config_yaml::line_of(list[i]));
        const auto env = parse_environment(text);
        if (!env) {
            config_yaml::fail(map.file(), config_yaml::line_of(list[i]), item_path,
                              "expects production or sandbox, got \"" + text + "\"");
        }
        (*env == Environment::production ? app.production : app.sandbox) = true;
    }
}

// apns: token | certificate; fcm: service_account. A type another platform uses is named as such,
// so an auth block copied from the wrong app says what is wrong.
void read_auth(const Map& app_map, AppConfig& app) {
    AppAuth& auth = app.auth;
    const Map map = app_map.child("auth", {"type", "team_id", "key_id", "key_file", "cert_file", "file"});
    if (app.platform == Platform::fcm) {
        if (!map.has("type")) map.fail_missing("type");
        if (map.read_choice("type", {"service_account", "token", "certificate"}, 0) != 0) {
            map.fail_at("type", "platform fcm expects type: service_account (token and certificate are APNs')");
        }
        auth.type = AuthType::service_account;
        for (std::string_view key : {"team_id", "key_id", "key_file", "cert_file"}) {
            if (map.has(key)) map.fail_at(key, "not used with type: service_account (its one key is file)");
        }
        if (!map.has("file")) map.fail_missing("file");
        // Only the path is kept: the key file is read by the sender alone.
        map.read_string("file", auth.file, false);
        auth.file_line = config_yaml::line_of(map.find("file"));
        return;
    }
    const std::size_t type = map.read_choice("type", {"token", "certificate", "service_account"}, 0);
    if (type == 2) map.fail_at("type", "service_account is for platform: fcm; platform apns expects token or certificate");
    auth.type = type == 0 ? AuthType::token : AuthType::certificate;
    if (map.has("file")) map.fail_at("file", "only used with type: service_account (platform: fcm)");
    // Only the paths are kept: the secrets are read by the sender alone (docs/config.md, "Rules").
    if (auth.type == AuthType::token) {
        for (std::string_view key : {"team_id", "key_id", "key_file"}) {
            if (!map.has(key)) map.fail_missing(key);
        }
        if (map.has("cert_file")) map.fail_at("cert_file", "only used with type: certificate");
        map.read_string("team_id", auth.team_id, false);
        map.read_string("key_id", auth.key_id, false);
    } else {
        for (std::string_view key : {"cert_file", "key_file"}) {
            if (!map.has(key)) map.fail_missing(key);
        }
        for (std::string_view key : {"team_id", "key_id"}) {
            if (map.has(key)) map.fail_at(key, "only used with type: token");
        }
        map.read_string("cert_file", auth.cert_file, false);
        auth.cert_file_line = config_yaml::line_of(map.find("cert_file"));
    }
    map.read_string("key_file", auth.key_file, false);
    auth.key_file_line = config_yaml::line_of(map.find("key_file"));
}

void read_platform(const Map& map, AppConfig& app) {
    if (!map.has("platform")) return;
    const std::size_t choice = map.read_choice("platform", {"apns", "fcm", "webpush"}, 0);
    if (choice == 2) {
        map.fail_at("platform", "webpush is not built yet (docs/webpush.md is planned); apns and fcm are");
    }
    app.platform = choice == 0 ? Platform::apns : Platform::fcm;
}

void read_apps(const Map& root, std::vector<AppConfig>& apps) {
    const YAML::Node list = root.require("apps");
    if (!list.IsSequence()) root.fail_at("apps", "expects a list of apps (- bundle_id: …)");
    if (list.size() == 0) root.fail_at("apps", "must list at least one app");
    for (std::size_t i = 0; i < list.size(); ++i) {
        const Map map(root.file(), list[i], "apps[" + std::to_string(i) + "]",
                      {"bundle_id", "platform", "environments", "android_priority", "auth"});
        AppConfig app;
        app.line = map.line();
        if (!map.has("bundle_id")) map.fail_missing("bundle_id");
        map.read_string("bundle_id", app.bundle_id, false);
        if (!is_plausible_bundle_id(app.bundle_id)) {
            map.fail_at("bundle_id", "\"" + app.bundle_id + "\" is not a bundle ID (printable ASCII, no spaces)");
        }
        read_platform(map, app);
        // A (platform, bundle_id) pair names one app: an iOS and an Android app often share a name.
        for (std::size_t j = 0; j < apps.size(); ++j) {
            if (apps[j].bundle_id == app.bundle_id && apps[j].platform == app.platform) {
                map.fail_at("bundle_id", "\"" + app.bundle_id + "\" is already apps[" + std::to_string(j) + "] (line " +
                                             std::to_string(apps[j].line) + ") for platform " +
                                             std::string(to_string(app.platform)));
            }
        }
        if (app.platform == Platform::apns) {
            if (map.has("android_priority")) map.fail_at("android_priority", "only used with platform: fcm");
            read_environments(map, app);
        } else {
            // FCM has no sandbox: a token works against the one endpoint whatever the app's build.
            if (map.has("environments")) map.fail_at("environments", "only used with platform: apns");
            app.sandbox = false;
            app.android_priority = map.read_choice("android_priority", {"high", "normal"}, 0) == 0
                                       ? AndroidPriority::high
                                       : AndroidPriority::normal;
        }
        read_auth(map, app);
        apps.push_back(std::move(app));
    }
}

void read_sender(const Map& root, SenderConfig& sender) {
    if (!root.has("sender")) return;
    const Map map = root.child("sender", {"log_level"});
    sender.log_level = static_cast<LogLevel>(map.read_choice("log_level", {"error", "warn", "info", "debug"}, 2));
}

// 1-based line of a "---" marker that follows content, 0 when there is none. A marker before any
// content only opens the one document.
int second_document_line(std::string_view text) {
    bool content_seen = false;
    int line_number = 0;
    while (!text.empty()) {
        ++line_number;
        const std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        const bool marker = line.starts_with("---") &&
                            (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
        if (marker && content_seen) return line_number;
        const std::size_t first = line.find_first_not_of(" \t\r");
        if (!marker && first != std::string_view::npos && line[first] != '#' && line[first] != '%') content_seen = true;
    }
    return 0;
}

}  // namespace

const AppConfig* Config::find_app(Platform platform, std::string_view bundle_id) const noexcept {
    for (const AppConfig& app : apps) {
        if (app.platform == platform && app.bundle_id == bundle_id) return &app;
    }
    return nullptr;
}

Config parse_config(const std::string& yaml_text, const std::string& file) {
    // The second document's line, found in the text: yaml-cpp 0.7's LoadAll never returns on
    // some malformed inputs (found by tests/fuzz/fuzz_config), while Load reads only the first.
    if (const int line = second_document_line(yaml_text); line != 0) {
        config_yaml::fail(file, line, "", "more than one YAML document (---)");
    }
    YAML::Node document;
    try {
        document = YAML::Load(yaml_text);
    } catch (const YAML::ParserException& e) {
        config_yaml::fail(file, e.mark.is_null() ? 1 : e.mark.line + 1, "", "YAML syntax error: " + e.msg);
    }
    if (document.IsNull()) {
        config_yaml::fail(file, 1, "", "the file is empty (store, queue and apps are required)");
    }

    Config config;
    config.file = file;
    const Map root(file, document, "", {"store", "queue", "delivery", "apns", "fcm", "apps", "sender"});
    read_store(root, config.store);
    read_queue(root, config.queue);
    read_delivery(root, config.delivery);
    read_apns(root, config.apns);
    read_fcm(root, config.fcm);
    read_apps(root, config.apps);
    read_sender(root, config.sender);
    return config;
}

Config load_config(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw ConfigError(path + ": cannot read (Is a directory)");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot read (" + std::strerror(errno) + ")");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw ConfigError(path + ": cannot read (" + std::strerror(errno) + ")");
    return parse_config(text.str(), path);
}

}  // namespace pushsync
