// SPDX-License-Identifier: BSD-2-Clause
// The device object of docs/api.md: field order, omitted app_version, RFC 3339 times, strict import.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "shared/device.hpp"

namespace pushsync {
namespace {

constexpr std::int64_t t_2026_11_26_09 = 1795683600000;  // 2026-11-26T09:00:00Z

Device sample() {
    Device d;
    d.token = "3f9a0123456789ab";
    d.group = "g-7c1e";
    d.bundle_id = "com.example.app";
    d.environment = Environment::production;
    d.app_version = "4.1";
    d.registered_at_ms = t_2026_11_26_09;
    d.last_seen_ms = t_2026_11_26_09 + 61'999;
    return d;
}

TEST(Environment, Names) {
    EXPECT_EQ(to_string(Environment::production), "production");
    EXPECT_EQ(to_string(Environment::sandbox), "sandbox");
    EXPECT_EQ(parse_environment("production"), Environment::production);
    EXPECT_EQ(parse_environment("sandbox"), Environment::sandbox);
    for (const char* bad : {"", "Production", "SANDBOX", "prod", "development", "sandbox ", " production"}) {
        EXPECT_FALSE(parse_environment(bad).has_value()) << bad;
    }
}

TEST(Rfc3339, FormatsWholeSecondsUtc) {
    EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339(999), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59Z");
    EXPECT_EQ(format_rfc3339(t_2026_11_26_09), "2026-11-26T09:00:00Z");
    EXPECT_EQ(format_rfc3339(951782400000), "2000-02-29T00:00:00Z");
    EXPECT_EQ(format_rfc3339(253402300799000), "9999-12-31T23:59:59Z");
}

TEST(Rfc3339, ParsesExactlyThatForm) {
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_rfc3339("2026-11-26T09:00:00Z"), t_2026_11_26_09);
    EXPECT_EQ(parse_rfc3339("2000-02-29T00:00:00Z"), 951782400000);
    EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59Z"), -1000);
    for (const char* bad : {"", "2026-11-26", "2026-11-26T09:00:00", "2026-11-26T09:00:00+00:00",
                            "2026-11-26T09:00:00.000Z", "2026-11-26 09:00:00Z", "2026-11-26t09:00:00z",
                            "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-11-31T00:00:00Z",
                            "2026-11-00T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
                            "2026-11-26T24:00:00Z", "2026-11-26T09:60:00Z", "2026-11-26T09:00:60Z",
                            "2026-1a-26T09:00:00Z", "+026-11-26T09:00:00Z"}) {
        EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
    }
}

TEST(Rfc3339, RoundTripsEverySecondOfALeapDay) {
    for (std::int64_t ms = 951782400000; ms < 951782400000 + 86'400'000; ms += 7'000) {
        EXPECT_EQ(parse_rfc3339(format_rfc3339(ms)), ms);
    }
}

TEST(DeviceJson, ContractFieldOrderCompact) {
    EXPECT_EQ(device_to_json(sample()),
              R"({"token":"3f9a0123456789ab","group":"g-7c1e","platform":"apns","bundle_id":"com.example.app",)"
              R"("environment":"production","app_version":"4.1",)"
              R"("registered_at":"2026-11-26T09:00:00Z","last_seen":"2026-11-26T09:01:01Z"})");
}

TEST(DeviceJson, AppVersionOmittedWhenEmpty) {
    Device d = sample();
    d.app_version.clear();
    d.environment = Environment::sandbox;
    EXPECT_EQ(device_to_json(d),
              R"({"token":"3f9a0123456789ab","group":"g-7c1e","platform":"apns","bundle_id":"com.example.app",)"
              R"("environment":"sandbox","registered_at":"2026-11-26T09:00:00Z","last_seen":"2026-11-26T09:01:01Z"})");
}

TEST(DeviceJson, RoundTripAtSecondPrecision) {
    Device d = sample();
    d.last_seen_ms = t_2026_11_26_09 + 61'000;
    EXPECT_EQ(device_from_json(device_to_json(d)), d);
    d.app_version.clear();
    EXPECT_EQ(device_from_json(device_to_json(d)), d);
    EXPECT_EQ(device_to_json(device_from_json(device_to_json(d))), device_to_json(d));
}

TEST(DeviceJson, UppercaseTokenNormalized) {
    const Device d = device_from_json(
        R"({"token":"3F9A0123456789AB","group":"g","bundle_id":"b","environment":"sandbox",)"
        R"("registered_at":"2026-11-26T09:00:00Z","last_seen":"2026-11-26T09:00:00Z"})");
    EXPECT_EQ(d.token, "3f9a0123456789ab");
    EXPECT_EQ(d.environment, Environment::sandbox);
}

// An FCM token is the app's own text: kept as given, case and all, and named in the JSON.
constexpr const char* fcm_token = "dGVzdA:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx";

TEST(DeviceJson, AnFcmDeviceKeepsItsTokenAsGiven) {
    Device d = sample();
    d.token = fcm_token;
    d.platform = Platform::fcm;
    d.last_seen_ms = d.registered_at_ms;  // the JSON keeps whole seconds
    const std::string json = device_to_json(d);
    EXPECT_EQ(json.substr(0, json.find(R"(,"bundle_id")")),
              std::string(R"({"token":")") + fcm_token + R"(","group":"g-7c1e","platform":"fcm")");
    EXPECT_EQ(device_from_json(json), d);
}

TEST(DeviceJson, ALineWithoutPlatformIsAnApnsDevice) {
    const Device d = device_from_json(
        R"({"token":"3f9a0123456789ab","group":"g","bundle_id":"b","environment":"production",)"
        R"("registered_at":"2026-11-26T09:00:00Z","last_seen":"2026-11-26T09:00:00Z"})");
    EXPECT_EQ(d.platform, Platform::apns);
}

TEST(DeviceJson, EachPlatformItsOwnTokenRule) {
    const auto line = [](const std::string& token, const std::string& platform, const std::string& env) {
        return R"({"token":")" + token + R"(","group":"g","platform":")" + platform +
               R"(","bundle_id":"b","environment":")" + env +
               R"(","registered_at":"2026-11-26T09:00:00Z","last_seen":"2026-11-26T09:00:00Z"})";
    };
    EXPECT_NO_THROW(device_from_json(line(fcm_token, "fcm", "production")));
    EXPECT_THROW(device_from_json(line(fcm_token, "apns", "production")), std::invalid_argument);
    EXPECT_THROW(device_from_json(line("short:token", "fcm", "production")), std::invalid_argument);
    EXPECT_THROW(device_from_json(line(fcm_token, "fcm", "sandbox")), std::invalid_argument);
    EXPECT_THROW(device_from_json(line(fcm_token, "webpush", "production")), std::invalid_argument);
    EXPECT_THROW(device_from_json(line(fcm_token, "android", "production")), std::invalid_argument);
}

void expect_refused(const std::string& json, const std::string& fragment) {
    try {
        device_from_json(json);
        ADD_FAILURE() << "accepted: " << json;
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

TEST(DeviceJson, StrictImport) {
    const std::string good = device_to_json(sample());
    auto replace = [&](const std::string& from, const std::string& to) {
        std::string s = good;
        s.replace(s.find(from), from.size(), to);
        return s;
    };
    expect_refused("", "not JSON");
    expect_refused("{", "not JSON");
    expect_refused("[]", "not a JSON object");
    expect_refused(R"("x")", "not a JSON object");
    expect_refused(replace(R"("token":"3f9a0123456789ab",)", ""), "missing field \"token\"");
    expect_refused(replace(R"("group":"g-7c1e",)", ""), "missing field \"group\"");
    expect_refused(replace(R"("bundle_id":"com.example.app",)", ""), "missing field \"bundle_id\"");
    expect_refused(replace(R"("environment":"production",)", ""), "missing field \"environment\"");
    expect_refused(replace(R"(,"last_seen":"2026-11-26T09:01:01Z")", ""), "missing field \"last_seen\"");
    expect_refused(replace(R"("registered_at":"2026-11-26T09:00:00Z",)", ""), "missing field \"registered_at\"");
    expect_refused(replace(R"("3f9a0123456789ab")", "12"), "field \"token\" is not a string");
    expect_refused(replace(R"("3f9a0123456789ab")", R"("3f9a0123456789a")"), "invalid token");
    expect_refused(replace(R"("g-7c1e")", R"("g 7c1e")"), "invalid group");
    expect_refused(replace(R"("g-7c1e")", R"("")"), "invalid group");
    expect_refused(replace(R"("com.example.app")", R"("")"), "empty bundle_id");
    expect_refused(replace(R"("production")", R"("development")"), "invalid environment");
    expect_refused(replace(R"("4.1")", R"("")"), "invalid app_version");
    expect_refused(replace(R"("4.1")", R"("4.1\n")"), "invalid app_version");
    expect_refused(replace(R"("4.1")", "4.1"), "field \"app_version\" is not a string");
    expect_refused(replace(R"("2026-11-26T09:00:00Z")", R"("2026-11-26")"), "registered_at");
    expect_refused(replace(R"("2026-11-26T09:01:01Z")", "1795683661"), "field \"last_seen\" is not a string");
    expect_refused(replace(R"("token")", R"("tokn")"), "unknown field \"tokn\"");
}

TEST(Now, IsMillisecondsSinceEpoch) {
    const std::int64_t now = now_unix_ms();
    EXPECT_GT(now, t_2026_11_26_09 - 365LL * 86'400'000 * 10);
    EXPECT_LT(now, t_2026_11_26_09 + 365LL * 86'400'000 * 100);
}

}  // namespace

// Found by tests/fuzz/fuzz_import_line: nlohmann answers a number too large with out_of_range,
// which import must refuse like any other broken line, not let through as a crash.
TEST(DeviceJson, ImportRefusesANumberTooLarge) {
    EXPECT_THROW(device_from_json("[[3333333333333333E33333]]"), std::invalid_argument);
    EXPECT_THROW(device_from_json(R"({"token":1E99999})"), std::invalid_argument);
}

}  // namespace pushsync
