// SPDX-License-Identifier: BSD-2-Clause
// Every endpoint, status and error code of docs/api.md against a real nginx with 2 workers,
// over HTTP/1.1, h2c and h2 over TLS; the store is checked after each call and every 4xx
// leaves it (and the queue) unchanged. Contract 1.2's platform (fcm devices) at the end.
#include <gtest/gtest.h>

#include <set>

#include "shared/queue/origin.hpp"
#include "shared/validation.hpp"
#include "tests/ngx_module/store_probe.hpp"
#include "tests/ngx_module/test_helpers.hpp"

namespace pushsync::test {
namespace {

// A real nginx, and the check that a 4xx changed nothing: neither the store nor the queue.
class RejectionWatch {
protected:
    NginxFixture nginx{NginxOptions{.queue_capacity = 64}};

    void expect_rejected(const HttpResponse& r, int status, const std::string& code) {
        EXPECT_TRUE(answers(r, status, code)) << r.body;
        EXPECT_EQ(store_dump(nginx.store_path()), store_before_);
        EXPECT_EQ(queue_entries(nginx.queue_path()).size(), queue_before_);
    }
    void snapshot() {
        store_before_ = store_dump(nginx.store_path());
        queue_before_ = queue_entries(nginx.queue_path()).size();
    }

    std::string store_before_;
    std::size_t queue_before_ = 0;
};

class ApiOverProtocol : public ::testing::TestWithParam<Protocol>, protected RejectionWatch {
protected:
    HttpResponse call(std::string_view method, std::string_view path, std::string_view body = {},
                      const std::vector<std::string>& headers = {}) {
        return nginx.request(method, path, body, headers, GetParam());
    }
};

const std::string g = "g-7c1e";
const std::string t1 = "3f9a0000000000000000000000000001";
const std::string t2 = "3f9a0000000000000000000000000002";
const std::string dev = "/v1/groups/" + g + "/devices";

TEST_P(ApiOverProtocol, EveryEndpointStatusAndErrorCode) {
    const std::string protocol_seen = GetParam() == Protocol::http1 ? "HTTP/1.1" : "HTTP/2";

    // --- list of a group nobody registered in -------------------------------------------------
    snapshot();
    auto r = call("GET", dev);
    EXPECT_EQ(r.protocol, protocol_seen);
    expect_rejected(r, 404, "unknown_group");

    // --- register: 201, then 200 keeping registered_at ----------------------------------------
    r = call("PUT", dev + "/" + t1, register_body("com.example.app", R"(,"app_version":"4.1","future":true)"));
    ASSERT_TRUE(answers(r, 201));
    EXPECT_EQ(r.header("content-type"), "application/json");
    auto body = json_of(r);
    EXPECT_EQ(body["token"], t1);
    EXPECT_EQ(body["group"], g);
    EXPECT_EQ(body["bundle_id"], "com.example.app");
    EXPECT_EQ(body["environment"], "production");
    EXPECT_EQ(body["app_version"], "4.1");
    auto stored = stored_device(nginx.store_path(), t1);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->group, g);
    EXPECT_EQ(stored->app_version, "4.1");
    EXPECT_EQ(format_rfc3339(stored->registered_at_ms), body["registered_at"]);

    std::string upper = t1;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    r = call("PUT", dev + "/" + upper, register_body("com.example.app", R"(,"environment":"sandbox")"));
    ASSERT_TRUE(answers(r, 200));
    body = json_of(r);
    EXPECT_EQ(body["token"], t1);  // stored and returned in lowercase
    EXPECT_EQ(body["environment"], "sandbox");
    EXPECT_FALSE(body.contains("app_version"));  // the other fields are replaced
    const auto refreshed = stored_device(nginx.store_path(), t1);
    ASSERT_TRUE(refreshed);
    EXPECT_EQ(refreshed->registered_at_ms, stored->registered_at_ms);
    EXPECT_EQ(refreshed->environment, Environment::sandbox);

    // --- every registration error leaves the store unchanged ----------------------------------
    snapshot();
    expect_rejected(call("PUT", "/v1/groups/" + std::string(129, 'g') + "/devices/" + t2, register_body()), 400,
                    "invalid_group");
    expect_rejected(call("PUT", "/v1/groups/bad%20group/devices/" + t2, register_body()), 400, "invalid_group");
    expect_rejected(call("PUT", dev + "/abc", register_body()), 400, "invalid_token");
    expect_rejected(call("PUT", dev + "/" + t2 + "0", register_body()), 400, "invalid_token");
    expect_rejected(call("PUT", dev + "/" + t2, register_body("com.example.other")), 422, "unknown_bundle");
    expect_rejected(call("PUT", dev + "/" + t2, register_body("")), 422, "unknown_bundle");
    expect_rejected(call("PUT", dev + "/" + t2, register_body("com.example.app", R"(,"environment":"staging")")), 400,
                    "invalid_environment");
    expect_rejected(call("PUT", dev + "/" + t2, register_body("com.example.prodonly", R"(,"environment":"sandbox")")),
                    400, "invalid_environment");
    expect_rejected(call("PUT", dev + "/" + t2, register_body("com.example.app", R"(,"app_version":41)")), 400,
                    "invalid_field");
    expect_rejected(call("PUT", dev + "/" + t2, R"({"environment":"production"})"), 400, "invalid_field");
    expect_rejected(call("PUT", dev + "/" + t2, "not json"), 400, "invalid_json");
    expect_rejected(call("PUT", dev + "/" + t2, R"(["com.example.app"])"), 400, "invalid_json");
    expect_rejected(call("PUT", dev + "/" + t2, register_body(), {"Content-Type: text/plain"}), 415,
                    "unsupported_media_type");
    const std::string big = register_body("com.example.app", R"(,"pad":")" + std::string(5000, 'x') + "\"");
    expect_rejected(call("PUT", dev + "/" + t2, big), 413, "body_too_large");
    if (GetParam() == Protocol::http1) {
        // No Content-Length up front: the size is checked on the body read.
        expect_rejected(call("PUT", dev + "/" + t2, big, {"Transfer-Encoding: chunked"}), 413, "body_too_large");
    }
    auto r405 = call("POST", dev + "/" + t2, register_body());
    expect_rejected(r405, 405, "method_not_allowed");
    EXPECT_EQ(r405.header("allow"), "PUT, DELETE");
    r405 = call("DELETE", dev);
    expect_rejected(r405, 405, "method_not_allowed");
    EXPECT_EQ(r405.header("allow"), "GET");
    expect_rejected(call("GET", "/v1/nothing/here"), 404, "not_found");
    expect_rejected(call("GET", dev + "/" + t1 + "/more"), 404, "not_found");

    // --- a second device, the list, and a move between groups ---------------------------------
    r = call("PUT", dev + "/" + t2, register_body());
    ASSERT_TRUE(answers(r, 201));
    r = call("GET", dev);
    ASSERT_TRUE(answers(r, 200));
    body = json_of(r);
    EXPECT_EQ(body["group"], g);
    ASSERT_EQ(body["devices"].size(), 2u);
    // sorted by token; tokens only by their prefix without pushsync_list_tokens
    EXPECT_EQ(body["devices"][0]["token_prefix"], t1.substr(0, 8));
    EXPECT_EQ(body["devices"][1]["token_prefix"], t2.substr(0, 8));
    EXPECT_FALSE(body["devices"][0].contains("token"));
    EXPECT_EQ(stored_group(nginx.store_path(), g).size(), 2u);

    r = call("PUT", "/v1/groups/other/devices/" + t2, register_body());
    ASSERT_TRUE(answers(r, 200));
    EXPECT_EQ(stored_device(nginx.store_path(), t2)->group, "other");
    EXPECT_EQ(stored_group(nginx.store_path(), g).size(), 1u);
    r = call("PUT", dev + "/" + t2, register_body());  // and back
    ASSERT_TRUE(answers(r, 200));
    EXPECT_EQ(stored_group(nginx.store_path(), "other").size(), 0u);

    // --- notify -------------------------------------------------------------------------------
    snapshot();
    const std::string notify = "/v1/groups/" + g + "/notify";
    r = call("POST", notify, R"({"tail":"T-000042","origin":")" + t1 + "\"}");
    ASSERT_TRUE(answers(r, 202));
    EXPECT_EQ(json_of(r), nlohmann::json::parse(R"({"status":"queued","devices":1})"));
    auto entries = queue_entries(nginx.queue_path());
    ASSERT_EQ(entries.size(), queue_before_ + 1);
    EXPECT_EQ(entries.back().group, g);
    EXPECT_EQ(entries.back().tail, "T-000042");
    EXPECT_EQ(entries.back().origin, t1);
    EXPECT_EQ(store_dump(nginx.store_path()), store_before_);

    r = call("POST", notify, R"({"tail":"T-000043"})");
    ASSERT_TRUE(answers(r, 202));
    EXPECT_EQ(json_of(r)["devices"], 2);
    snapshot();
    expect_rejected(call("POST", notify, "{"), 400, "invalid_json");
    expect_rejected(call("POST", notify, R"({"tail":"has space"})"), 400, "invalid_tail");
    expect_rejected(call("POST", notify, R"({"origin":")" + t1 + "\"}"), 400, "invalid_tail");
    expect_rejected(call("POST", notify, R"({"tail":"t","origin":"zz"})"), 400, "invalid_token");
    expect_rejected(call("POST", notify, R"({"tail":["t"]})"), 400, "invalid_field");
    expect_rejected(call("POST", "/v1/groups/nobody/notify", R"({"tail":"t"})"), 404, "unknown_group");
    expect_rejected(call("POST", notify, R"({"tail":"t"})", {"Content-Type: text/plain"}), 415,
                    "unsupported_media_type");
    r405 = call("GET", notify);
    expect_rejected(r405, 405, "method_not_allowed");
    EXPECT_EQ(r405.header("allow"), "POST");

    // --- unregister ---------------------------------------------------------------------------
    snapshot();
    expect_rejected(call("DELETE", "/v1/groups/other/devices/" + t2), 404, "unknown_device");
    r = call("DELETE", dev + "/" + t2);
    EXPECT_EQ(r.status, 204);
    EXPECT_TRUE(r.body.empty());
    EXPECT_FALSE(stored_device(nginx.store_path(), t2));
    snapshot();
    expect_rejected(call("DELETE", dev + "/" + t2), 404, "unknown_device");

    // The origin is now the group's only device.
    r = call("POST", notify, R"({"tail":"T-9","origin":")" + t1 + "\"}");
    ASSERT_TRUE(answers(r, 200));
    EXPECT_EQ(json_of(r), nlohmann::json::parse(R"({"status":"nothing_to_notify","devices":0})"));
    EXPECT_EQ(queue_entries(nginx.queue_path()).size(), queue_before_);

    ASSERT_EQ(call("DELETE", dev + "/" + t1).status, 204);
    snapshot();
    expect_rejected(call("GET", dev), 404, "unknown_group");  // a group exists while it has a device
    EXPECT_EQ(store_dump(nginx.store_path()), "");

    // --- status and metrics --------------------------------------------------------------------
    r = call("GET", "/pushsync/status");
    ASSERT_TRUE(answers(r, 200));
    body = json_of(r);
    EXPECT_EQ(body["queue"]["capacity"], 64);
    EXPECT_EQ(body["queue"]["depth"], 2);
    EXPECT_EQ(body["counters"]["registrations"], 5);
    EXPECT_EQ(body["counters"]["unregistrations"], 2);
    EXPECT_EQ(body["counters"]["notifies_accepted"], 2);
    for (const char* c : {"notifies_rejected", "pushes_sent", "pushes_failed", "tokens_pruned"}) {
        EXPECT_EQ(body["counters"][c], 0) << c;
    }
    EXPECT_EQ(body["sender"]["alive"], false);
    r = call("GET", "/pushsync/metrics");
    ASSERT_TRUE(answers(r, 200));
    EXPECT_NE(r.body.find("pushsync_registrations_total 5\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("pushsync_notifies_accepted_total 2\n"), std::string::npos);
    EXPECT_NE(r.body.find("pushsync_queue_depth 2\n"), std::string::npos);
    r = call("POST", "/pushsync/status", "{}");
    EXPECT_TRUE(answers(r, 405, "method_not_allowed"));
    EXPECT_EQ(r.header("allow"), "GET");

    EXPECT_TRUE(store_problems(nginx.store_path()).empty());
    EXPECT_EQ(nginx.error_log().find("[alert]"), std::string::npos) << nginx.error_log();
}

INSTANTIATE_TEST_SUITE_P(Protocols, ApiOverProtocol, ::testing::ValuesIn(all_protocols),
                         [](const auto& info) {
                             std::string name(to_string(info.param));
                             for (auto& c : name) if (c == '.' || c == '-') c = '_';
                             return name;
                         });


// --- contract 1.2's platform: an fcm device beside apns devices in one group, each platform's
// token rule, the platform in every device object, an origin too long for a queue slot. Every
// refusal leaves the store and the queue unchanged.
const std::string mixed = "g-mixed";
const std::string mixed_dev = "/v1/groups/" + mixed + "/devices";
const std::string apns_token = t1;

// FCM's tokens look like this: an instance id, ':', then base64url-ish text; case matters.
const std::string fcm_token = "cD3fQ2xYz:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx_4q8Zr";

class PlatformApi : public ::testing::Test, protected RejectionWatch {};

TEST_F(PlatformApi, AnFcmDeviceJoinsAGroupOfApnsDevicesWithItsTokenAsGiven) {
    auto r = nginx.request("PUT", mixed_dev + "/" + apns_token, register_body());
    ASSERT_TRUE(answers(r, 201));
    EXPECT_EQ(json_of(r)["platform"], "apns");  // absent: apns, and said so

    r = nginx.request("PUT", mixed_dev + "/" + fcm_token, register_body("com.example.app", R"(,"platform":"fcm","app_version":"2.0")"));
    ASSERT_TRUE(answers(r, 201)) << r.body;
    auto body = json_of(r);
    EXPECT_EQ(body["token"], fcm_token);  // case kept
    EXPECT_EQ(body["platform"], "fcm");
    EXPECT_EQ(body["environment"], "production");
    EXPECT_EQ(r.body.find(R"("group":"g-mixed","platform":"fcm","bundle_id")") != std::string::npos, true) << r.body;
    auto stored = stored_device(nginx.store_path(), fcm_token);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->platform, Platform::fcm);

    // The same token refreshed: 200, still fcm.
    r = nginx.request("PUT", mixed_dev + "/" + fcm_token, register_body("com.example.app", R"(,"platform":"fcm")"));
    ASSERT_TRUE(answers(r, 200));

    // The listing names each device's platform.
    r = nginx.request("GET", mixed_dev);
    ASSERT_TRUE(answers(r, 200));
    body = json_of(r);
    ASSERT_EQ(body["devices"].size(), 2u);
    std::set<std::string> platforms;
    for (const auto& device : body["devices"]) platforms.insert(device.value("platform", ""));
    EXPECT_EQ(platforms, (std::set<std::string>{"apns", "fcm"}));

    // A notify from the Android device reaches the other one.
    r = nginx.request("POST", "/v1/groups/" + mixed + "/notify", R"({"tail":"T-1","origin":")" + fcm_token + "\"}");
    ASSERT_TRUE(answers(r, 202)) << r.body;
    EXPECT_EQ(json_of(r)["devices"], 1);
    const auto queued = queue_entries(nginx.queue_path());
    ASSERT_EQ(queued.size(), 1u);
    EXPECT_EQ(queued[0].origin, fcm_token);

    // Unregistered by its token as given.
    r = nginx.request("DELETE", mixed_dev + "/" + fcm_token);
    EXPECT_EQ(r.status, 204);
    EXPECT_FALSE(stored_device(nginx.store_path(), fcm_token));
}

TEST_F(PlatformApi, AnOriginLongerThanAQueueSlotTravelsAsItsHash) {
    const std::string long_token = "cD3f:" + std::string(295, 'Q');  // 300: more than a slot's 200
    ASSERT_TRUE(answers(nginx.request("PUT", mixed_dev + "/" + long_token, register_body("com.example.app", R"(,"platform":"fcm")")), 201));
    ASSERT_TRUE(answers(nginx.request("PUT", mixed_dev + "/" + apns_token, register_body()), 201));
    auto r = nginx.request("POST", "/v1/groups/" + mixed + "/notify", R"({"tail":"T-2","origin":")" + long_token + "\"}");
    ASSERT_TRUE(answers(r, 202)) << r.body;
    EXPECT_EQ(json_of(r)["devices"], 1);
    const auto queued = queue_entries(nginx.queue_path());
    ASSERT_EQ(queued.size(), 1u);
    EXPECT_EQ(queued[0].origin, queued_origin(long_token));
    EXPECT_TRUE(is_origin(queued[0].origin, long_token));
}

TEST_F(PlatformApi, EachPlatformItsOwnRulesAndRefusalsChangeNothing) {
    ASSERT_TRUE(answers(nginx.request("PUT", mixed_dev + "/" + apns_token, register_body()), 201));
    snapshot();
    const auto put = [&](const std::string& token, const std::string& extra) {
        return nginx.request("PUT", mixed_dev + "/" + token, register_body("com.example.app", extra));
    };
    // An FCM token registered as apns (platform absent) breaks the apns rule.
    expect_rejected(put(fcm_token, ""), 400, "invalid_token");
    // Too short for fcm, and a character FCM never uses.
    expect_rejected(put("cD3f:APA91b", R"(,"platform":"fcm")"), 400, "invalid_token");
    expect_rejected(put(fcm_token + ".x", R"(,"platform":"fcm")"), 400, "invalid_token");
    expect_rejected(put(fcm_token, R"(,"platform":"android")"), 400, "invalid_field");
    expect_rejected(put(fcm_token, R"(,"platform":"webpush")"), 400, "invalid_field");  // not built yet
    expect_rejected(put(fcm_token, R"(,"platform":7)"), 400, "invalid_field");
    expect_rejected(put(fcm_token, R"(,"platform":"fcm","environment":"sandbox")"), 400, "invalid_environment");
    // An fcm app of another name: none is configured.
    expect_rejected(nginx.request("PUT", mixed_dev + "/" + fcm_token, register_body("com.example.prodonly", R"(,"platform":"fcm")")),
                    422, "unknown_bundle");
    // Longer than the store can key (max_stored_token_length): refused, not failed in LMDB. The
    // longest it takes, in the longest group, is stored.
    expect_rejected(put("cD3f:" + std::string(max_stored_token_length - 4, 'Q'), R"(,"platform":"fcm")"), 400,
                    "invalid_token");
    const std::string longest_group(128, 'G');
    const std::string longest = "cD3f:" + std::string(max_stored_token_length - 5, 'Q');
    const auto r = nginx.request("PUT", "/v1/groups/" + longest_group + "/devices/" + longest,
                                 register_body("com.example.app", R"(,"platform":"fcm")"));
    EXPECT_TRUE(answers(r, 201)) << r.body;
    snapshot();
    // An origin of no platform.
    expect_rejected(nginx.request("POST", "/v1/groups/" + mixed + "/notify", R"({"tail":"T-1","origin":"no/such"})"), 400,
                    "invalid_token");
}

}  // namespace
}  // namespace pushsync::test
