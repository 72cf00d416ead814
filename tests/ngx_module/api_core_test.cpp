// SPDX-License-Identifier: BSD-2-Clause
// The nginx-free request logic the module answers with: routing, bodies, reports.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ngx_module/api/body.hpp"
#include "ngx_module/api/report.hpp"
#include "ngx_module/api/responses.hpp"
#include "ngx_module/api/route.hpp"
#include "pushsync_version.hpp"

using namespace pushsync;
using namespace pushsync::api;

namespace {

const std::string token = "00112233445566778899AABBCCDDEEFF";

std::string error_code(const std::variant<Route, ApiError>& v) {
    return std::holds_alternative<ApiError>(v) ? std::get<ApiError>(v).code : "";
}

template <typename T>
std::string body_error(const std::variant<T, ApiError>& v) {
    return std::holds_alternative<ApiError>(v) ? std::get<ApiError>(v).code : "";
}

}  // namespace

TEST(ApiRoute, MapsEachEndpointAndLowercasesTheToken) {
    auto put = route("PUT", "groups/g-1/devices/" + token);
    ASSERT_TRUE(std::holds_alternative<Route>(put));
    EXPECT_EQ(std::get<Route>(put).endpoint, Endpoint::register_device);
    EXPECT_EQ(std::get<Route>(put).group, "g-1");
    EXPECT_EQ(std::get<Route>(put).token, "00112233445566778899aabbccddeeff");
    EXPECT_EQ(std::get<Route>(route("DELETE", "/groups/g/devices/" + token)).endpoint, Endpoint::unregister_device);
    EXPECT_EQ(std::get<Route>(route("GET", "groups/g/devices")).endpoint, Endpoint::list_group);
    EXPECT_EQ(std::get<Route>(route("POST", "groups/g/notify")).endpoint, Endpoint::notify);
}

TEST(ApiRoute, UnknownPathsAreNotFound) {
    for (const char* path : {"", "groups", "groups/g", "groups/g/", "groups/g/devices/", "groups/g/devices/t/x",
                             "group/g/devices", "groups/g/notify/x", "groups/g/other", "a/b/c/d/e/f/g"}) {
        auto r = route("GET", path);
        ASSERT_TRUE(std::holds_alternative<ApiError>(r)) << path;
        // "groups/g/devices/" is the device endpoint with an empty token: 405 for GET
        if (std::string_view(path) == "groups/g/devices/") continue;
        EXPECT_EQ(std::get<ApiError>(r).status, 404) << path;
        EXPECT_EQ(std::get<ApiError>(r).code, "not_found") << path;
    }
}

TEST(ApiRoute, WrongMethodIs405WithAllow) {
    auto r = route("POST", "groups/g/devices/" + token);
    ASSERT_EQ(error_code(r), "method_not_allowed");
    EXPECT_EQ(std::get<ApiError>(r).status, 405);
    EXPECT_EQ(std::get<ApiError>(r).allow, "PUT, DELETE");
    EXPECT_EQ(std::get<ApiError>(route("PUT", "groups/g/devices")).allow, "GET");
    EXPECT_EQ(std::get<ApiError>(route("GET", "groups/g/notify")).allow, "POST");
}

TEST(ApiRoute, BadIdentifiersAre400) {
    EXPECT_EQ(error_code(route("GET", "groups/" + std::string(129, 'a') + "/devices")), "invalid_group");
    EXPECT_EQ(error_code(route("GET", "groups/a b/devices")), "invalid_group");
    EXPECT_EQ(error_code(route("GET", "groups//devices")), "invalid_group");
    EXPECT_EQ(error_code(route("PUT", "groups/g/devices/abc")), "invalid_token");
    EXPECT_EQ(error_code(route("PUT", "groups/g/devices/" + token + ".")), "invalid_token");
    EXPECT_EQ(error_code(route("PUT", "groups/g/devices/" + std::string(1025, 'a'))), "invalid_token");
    EXPECT_EQ(error_code(route("PUT", "groups/g/devices/")), "invalid_token");
    // An odd-length hex token is no APNs token but may be an FCM one: the registration's
    // platform decides (the handler answers invalid_token for an apns registration).
    const auto odd = route("PUT", "groups/g/devices/" + token + "0");
    ASSERT_EQ(error_code(odd), "");
    EXPECT_EQ(std::get<Route>(odd).token_as_given, token + "0");
}

TEST(ApiRoute, AnFcmTokenIsKeptAsGivenAndAnApnsTokenLowercased) {
    const std::string fcm = "cD3f:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx";
    const auto r = route("DELETE", "groups/g/devices/" + fcm);
    ASSERT_EQ(error_code(r), "");
    EXPECT_EQ(std::get<Route>(r).token, fcm);
    const auto upper = route("PUT", "groups/g/devices/3F9A0123456789AB");
    ASSERT_EQ(error_code(upper), "");
    EXPECT_EQ(std::get<Route>(upper).token, "3f9a0123456789ab");
    EXPECT_EQ(std::get<Route>(upper).token_as_given, "3F9A0123456789AB");
}

TEST(ApiRoute, GroupOfPathForTheVariable) {
    EXPECT_EQ(group_of_path("groups/g-7/devices"), "g-7");
    EXPECT_EQ(group_of_path("/groups/g-7/notify"), "g-7");
    EXPECT_EQ(group_of_path("groups/g-7/devices/" + token), "g-7");
    EXPECT_EQ(group_of_path("groups/bad!/devices"), "");
    EXPECT_EQ(group_of_path("other/g/devices"), "");
}

TEST(ApiBody, ContentTypeAndSize) {
    EXPECT_FALSE(check_content_type(std::nullopt));
    EXPECT_FALSE(check_content_type("application/json"));
    EXPECT_FALSE(check_content_type("Application/JSON; charset=utf-8"));
    EXPECT_EQ(check_content_type("text/plain")->code, "unsupported_media_type");
    EXPECT_EQ(check_content_type("application/x-www-form-urlencoded")->status, 415);
    EXPECT_EQ(check_content_type("application/jsonx")->status, 415);
    EXPECT_FALSE(check_body_size(4096));
    EXPECT_EQ(check_body_size(4097)->code, "body_too_large");
    EXPECT_EQ(check_body_size(4097)->status, 413);
}

TEST(ApiBody, RegistrationFields) {
    auto ok = parse_registration_body(R"({"bundle_id":"com.x","environment":"sandbox","app_version":"4.1","extra":1})");
    ASSERT_TRUE(std::holds_alternative<RegistrationBody>(ok));
    EXPECT_EQ(std::get<RegistrationBody>(ok).bundle_id, "com.x");
    EXPECT_EQ(std::get<RegistrationBody>(ok).environment, Environment::sandbox);
    EXPECT_EQ(std::get<RegistrationBody>(ok).app_version, "4.1");
    auto plain = parse_registration_body(R"({"bundle_id":"com.x"})");
    EXPECT_EQ(std::get<RegistrationBody>(plain).environment, Environment::production);
    EXPECT_EQ(std::get<RegistrationBody>(plain).app_version, "");
    // Left to the apps[] lookup (422 unknown_bundle), not refused here as malformed.
    auto empty_bundle = parse_registration_body(R"({"bundle_id":""})");
    ASSERT_TRUE(std::holds_alternative<RegistrationBody>(empty_bundle));
    EXPECT_EQ(std::get<RegistrationBody>(empty_bundle).bundle_id, "");

    EXPECT_EQ(body_error(parse_registration_body("")), "invalid_json");
    EXPECT_EQ(body_error(parse_registration_body("[]")), "invalid_json");
    EXPECT_EQ(body_error(parse_registration_body("{\"bundle_id\":")), "invalid_json");
    EXPECT_EQ(body_error(parse_registration_body("{}")), "invalid_field");
    EXPECT_EQ(body_error(parse_registration_body(R"({"bundle_id":1})")), "invalid_field");
    EXPECT_EQ(body_error(parse_registration_body(R"({"bundle_id":"x","environment":"staging"})")), "invalid_environment");
    EXPECT_EQ(body_error(parse_registration_body(R"({"bundle_id":"x","environment":null})")), "invalid_field");
    EXPECT_EQ(body_error(parse_registration_body(R"({"bundle_id":"x","app_version":4})")), "invalid_field");
    EXPECT_EQ(body_error(parse_registration_body(R"({"bundle_id":"x","app_version":""})")), "invalid_field");
    EXPECT_EQ(body_error(parse_registration_body(R"({"bundle_id":"x","app_version":")" + std::string(65, 'v') + "\"}")),
              "invalid_field");
}

TEST(ApiBody, NotifyFields) {
    auto ok = parse_notify_body(R"({"tail":"T-000042","origin":")" + token + "\"}");
    ASSERT_TRUE(std::holds_alternative<NotifyBody>(ok));
    EXPECT_EQ(std::get<NotifyBody>(ok).tail, "T-000042");
    EXPECT_EQ(std::get<NotifyBody>(ok).origin, "00112233445566778899aabbccddeeff");
    EXPECT_EQ(std::get<NotifyBody>(parse_notify_body(R"({"tail":"a:b+c/d=e"})")).origin, "");

    EXPECT_EQ(body_error(parse_notify_body("nope")), "invalid_json");
    EXPECT_EQ(body_error(parse_notify_body("{}")), "invalid_tail");
    EXPECT_EQ(body_error(parse_notify_body(R"({"tail":""})")), "invalid_tail");
    EXPECT_EQ(body_error(parse_notify_body(R"({"tail":"a b"})")), "invalid_tail");
    EXPECT_EQ(body_error(parse_notify_body(R"({"tail":7})")), "invalid_field");
    EXPECT_EQ(body_error(parse_notify_body(R"({"tail":"t","origin":"xyz"})")), "invalid_token");
    EXPECT_EQ(body_error(parse_notify_body(R"({"tail":"t","origin":5})")), "invalid_field");
}

// Plain bodies (flat, ASCII strings, no escapes) take a direct reader, the rest nlohmann's parser:
// both must answer as one JSON parser would.
TEST(ApiBody, EveryShapeOfBodyReadsAsJson) {
    const auto tail_of = [](const std::string& body) {
        auto parsed = parse_notify_body(body);
        return std::holds_alternative<NotifyBody>(parsed) ? std::get<NotifyBody>(parsed).tail
                                                          : "error:" + body_error(parsed);
    };
    EXPECT_EQ(tail_of(" \t\r\n{ \"tail\" :\n\"T-1\" , \"x\":\"y\" }\n"), "T-1");
    EXPECT_EQ(tail_of(R"({"tail":"T\u002d1"})"), "T-1");              // an escape: the full parser
    EXPECT_EQ(tail_of(R"({"tail":"first","tail":"second"})"), "second");  // the last of duplicates
    EXPECT_EQ(tail_of(R"({"tail":"first","n":1,"tail":"second"})"), "second");
    EXPECT_EQ(tail_of(R"({"tail":"t","tail":7})"), "error:invalid_field");
    EXPECT_EQ(tail_of(R"({"tail":7,"tail":"t"})"), "t");
    EXPECT_EQ(tail_of(R"({"inner":{"tail":"nested"},"tail":"top"})"), "top");
    EXPECT_EQ(tail_of(R"({"inner":{"tail":"nested"}})"), "error:invalid_tail");
    EXPECT_EQ(tail_of(R"({"tail":["t"]})"), "error:invalid_field");
    EXPECT_EQ(tail_of(R"({"tail":null})"), "error:invalid_field");
    for (const std::string bad : {R"({"tail":"t"}x)", R"({"tail":"t",})", R"({"tail" "t"})", R"({"tail":"t")",
                                  R"({tail:"t"})", R"(["tail","t"])", R"("tail")", "{\"tail\":\"t\x01\"}",
                                  "{\"tail\":\"t\xff\"}", R"({"tail":"t"}{})"}) {
        SCOPED_TRACE(bad);
        EXPECT_EQ(tail_of(bad), "error:invalid_json");
    }
    // Non-ASCII that is valid UTF-8 is JSON (the tail check then refuses it, not the parser).
    EXPECT_EQ(tail_of("{\"x\":\"\xc3\xa9\",\"tail\":\"t\"}"), "t");
}

TEST(ApiResponses, ErrorAndNotifyBodiesFollowTheContract) {
    const auto error = nlohmann::json::parse(error_body({404, "not_found", "no such endpoint", {}}));
    EXPECT_EQ(error["error"], "not_found");
    EXPECT_EQ(error["message"], "no such endpoint");
    EXPECT_EQ(notify_body("queued", 3), R"({"status":"queued","devices":3})");
    Device d;
    d.token = "00112233445566778899aabbccddeeff";
    d.group = "g";
    d.bundle_id = "com.x";
    const auto list = nlohmann::json::parse(group_body("g", {d, d}));
    EXPECT_EQ(list["group"], "g");
    EXPECT_EQ(list["devices"].size(), 2u);
    EXPECT_EQ(list["devices"][0]["token"], d.token);
}

TEST(ApiReport, StatusAndMetricsCarryEveryFigure) {
    QueueStats stats;
    stats.capacity = 8;
    stats.depth = 3;
    stats.consumer_heartbeat_ms = 10'000;
    stats.counters[static_cast<unsigned>(Counter::registrations)] = 5;
    stats.counters[static_cast<unsigned>(Counter::tokens_pruned)] = 2;
    const auto status = nlohmann::json::parse(status_json(stats, 14'000));
    EXPECT_EQ(status["version"], std::string(pushsync::version));
    EXPECT_EQ(status["queue"]["capacity"], 8);
    EXPECT_EQ(status["queue"]["depth"], 3);
    EXPECT_EQ(status["sender"]["alive"], true);
    for (const char* c : {"registrations", "unregistrations", "notifies_accepted", "notifies_rejected", "pushes_sent",
                          "pushes_failed", "tokens_pruned"}) {
        EXPECT_TRUE(status["counters"].contains(c)) << c;
    }
    EXPECT_EQ(status["counters"]["registrations"], 5);
    EXPECT_FALSE(nlohmann::json::parse(status_json(stats, 15'001))["sender"]["alive"]);
    EXPECT_FALSE(sender_alive(QueueStats{}, 1));
    // The sender's hold figures, when its metrics file could be read; left out otherwise.
    EXPECT_FALSE(status["counters"].contains("pushes_held"));
    EXPECT_FALSE(status["sender"].contains("waiting_pushes"));
    const metrics::HoldFigures holds{5, 3, 4, 1, 2};
    const auto with_holds = nlohmann::json::parse(status_json(stats, 14'000, &holds));
    EXPECT_EQ(with_holds["counters"]["pushes_held"], 5);
    EXPECT_EQ(with_holds["counters"]["pushes_merged"], 3);
    EXPECT_EQ(with_holds["counters"]["pushes_released"], 4);
    EXPECT_EQ(with_holds["counters"]["held_pushes_dropped"], 1);
    EXPECT_EQ(with_holds["sender"]["waiting_pushes"], 2);

    const std::string metrics = metrics_text(stats, 14'000);
    EXPECT_NE(metrics.find("pushsync_registrations_total 5\n"), std::string::npos);
    EXPECT_NE(metrics.find("pushsync_tokens_pruned_total 2\n"), std::string::npos);
    EXPECT_NE(metrics.find("pushsync_queue_depth 3\n"), std::string::npos);
    EXPECT_NE(metrics.find("pushsync_sender_alive 1\n"), std::string::npos);
}
