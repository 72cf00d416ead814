// SPDX-License-Identifier: BSD-2-Clause
// The device record of docs/api.md: its JSON form (export/import, API answers) and the
// RFC 3339 times it shows.
#include "shared/device.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "shared/validation.hpp"

namespace pushsync {
namespace {

constexpr std::int64_t ms_per_day = 86'400'000;

// Howard Hinnant's days_from_civil / civil_from_days: exact proleptic Gregorian arithmetic
// without timegm(), which depends on the TZ environment of the process.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

constexpr Civil civil_from_days(std::int64_t z) noexcept {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

constexpr bool is_leap(std::int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
    constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// Reads exactly `n` ASCII digits at `pos`; -1 when any is not a digit.
int digits(std::string_view text, std::size_t pos, std::size_t n) noexcept {
    int value = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        const char c = text[i];
        if (c < '0' || c > '9') return -1;
        value = value * 10 + (c - '0');
    }
    return value;
}

using Json = nlohmann::json;

const Json& require(const Json& object, const char* key) {
    const auto it = object.find(key);
    if (it == object.end()) throw std::invalid_argument(std::string("missing field \"") + key + "\"");
    return *it;
}

const std::string& require_string(const Json& object, const char* key) {
    const Json& value = require(object, key);
    if (!value.is_string()) throw std::invalid_argument(std::string("field \"") + key + "\" is not a string");
    return value.get_ref<const std::string&>();
}

std::int64_t require_time(const Json& object, const char* key) {
    const std::string& text = require_string(object, key);
    const auto ms = parse_rfc3339(text);
    if (!ms) {
        throw std::invalid_argument(std::string("field \"") + key + "\" is not an RFC 3339 UTC time like " +
                                    "2026-11-26T09:00:00Z: \"" + text + "\"");
    }
    return *ms;
}

}  // namespace

std::string_view to_string(Environment env) noexcept {
    return env == Environment::sandbox ? "sandbox" : "production";
}

std::optional<Environment> parse_environment(std::string_view text) noexcept {
    if (text == "production") return Environment::production;
    if (text == "sandbox") return Environment::sandbox;
    return std::nullopt;
}

std::string_view to_string(Platform platform) noexcept {
    switch (platform) {
    case Platform::fcm: return "fcm";
    case Platform::webpush: return "webpush";
    case Platform::apns: break;
    }
    return "apns";
}

std::optional<Platform> parse_platform(std::string_view text) noexcept {
    if (text == "apns") return Platform::apns;
    if (text == "fcm") return Platform::fcm;
    if (text == "webpush") return Platform::webpush;
    return std::nullopt;
}

std::string device_to_json(const Device& device) {
    nlohmann::ordered_json out;
    out["token"] = device.token;
    out["group"] = device.group;
    out["platform"] = to_string(device.platform);
    out["bundle_id"] = device.bundle_id;
    out["environment"] = to_string(device.environment);
    if (!device.app_version.empty()) out["app_version"] = device.app_version;
    out["registered_at"] = format_rfc3339(device.registered_at_ms);
    out["last_seen"] = format_rfc3339(device.last_seen_ms);
    return out.dump();
}

Device device_from_json(std::string_view json_line) {
    Json object;
    try {
        object = Json::parse(json_line);
    } catch (const Json::exception& e) {  // parse_error, and out_of_range for a number too large
        throw std::invalid_argument(std::string("not JSON: ") + e.what());
    }
    if (!object.is_object()) throw std::invalid_argument("not a JSON object");

    // Import is the only reader: a field it does not know is more likely a typo or a file from
    // something else than data it may drop, so it is refused.
    static constexpr const char* known[] = {"token",       "group",       "platform",      "bundle_id",
                                            "environment", "app_version", "registered_at", "last_seen"};
    for (const auto& item : object.items()) {
        bool found = false;
        for (const char* key : known) found = found || item.key() == key;
        if (!found) throw std::invalid_argument("unknown field \"" + item.key() + "\"");
    }

    Device device;
    if (object.contains("platform")) {
        const std::string& platform = require_string(object, "platform");
        const auto parsed = parse_platform(platform);
        if (!parsed || *parsed == Platform::webpush) {
            throw std::invalid_argument("invalid platform \"" + platform + "\" (apns or fcm)");
        }
        device.platform = *parsed;
    }
    const std::string& token = require_string(object, "token");
    switch (platform_token_problem(device.platform, token)) {
    case TokenProblem::none: break;
    case TokenProblem::not_apns: throw std::invalid_argument("invalid token \"" + token + "\"");
    case TokenProblem::not_fcm: throw std::invalid_argument("invalid fcm token \"" + token + "\"");
    case TokenProblem::too_long_to_store:
        throw std::invalid_argument("fcm token of " + std::to_string(token.size()) + " characters: the store keys at most " +
                                    std::to_string(max_stored_token_length));
    }
    device.token = stored_token(device.platform, token);

    device.group = require_string(object, "group");
    if (!is_valid_group(device.group)) throw std::invalid_argument("invalid group \"" + device.group + "\"");

    device.bundle_id = require_string(object, "bundle_id");
    if (device.bundle_id.empty()) throw std::invalid_argument("empty bundle_id");

    const std::string& environment = require_string(object, "environment");
    const auto env = parse_environment(environment);
    if (!env) throw std::invalid_argument("invalid environment \"" + environment + "\"");
    device.environment = *env;
    if (device.platform != Platform::apns && device.environment != Environment::production) {
        throw std::invalid_argument("environment sandbox is for apns devices only");
    }

    if (object.contains("app_version")) {
        device.app_version = require_string(object, "app_version");
        if (!is_valid_app_version(device.app_version)) {
            throw std::invalid_argument("invalid app_version (1-64 printable ASCII characters)");
        }
    }

    device.registered_at_ms = require_time(object, "registered_at");
    device.last_seen_ms = require_time(object, "last_seen");
    return device;
}

std::string format_rfc3339(std::int64_t unix_ms) {
    // Floor, not truncation: a time before the epoch still shows the second it falls in.
    std::int64_t days = unix_ms / ms_per_day;
    std::int64_t ms_of_day = unix_ms % ms_per_day;
    if (ms_of_day < 0) {
        ms_of_day += ms_per_day;
        --days;
    }
    const Civil date = civil_from_days(days);
    const auto secs = static_cast<int>(ms_of_day / 1000);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02dZ", static_cast<long long>(date.year),
                  date.month, date.day, secs / 3600, secs / 60 % 60, secs % 60);
    return buf;
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) noexcept {
    // Exactly YYYY-MM-DDTHH:MM:SSZ; the device object never carries fractions or offsets.
    if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
        text[16] != ':' || text[19] != 'Z') {
        return std::nullopt;
    }
    const int year = digits(text, 0, 4);
    const int month = digits(text, 5, 2);
    const int day = digits(text, 8, 2);
    const int hour = digits(text, 11, 2);
    const int minute = digits(text, 14, 2);
    const int second = digits(text, 17, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
        second < 0 || second > 59) {
        return std::nullopt;
    }
    if (static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month))) return std::nullopt;
    const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return ((days * 24 + hour) * 60 + minute) * 60'000 + second * 1000LL;
}

std::int64_t now_unix_ms() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace pushsync
