// SPDX-License-Identifier: BSD-2-Clause
// Contract 1.2's `platform` through a real nginx: an fcm device beside apns devices in one group,
// each platform's token rule, the platform in every device object, and a notify whose origin is
// an FCM token too long for a queue slot. Every refusal leaves the store and the queue unchanged.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "shared/queue/origin.hpp"
#include "shared/validation.hpp"
#include "tests/ngx_module/store_probe.hpp"
#include "tests/ngx_module/test_helpers.hpp"

namespace pushsync::test {
namespace {

const std::string g = "g-mixed";
const std::string dev = "/v1/groups/" + g + "/devices";
const std::string apns_token = "3f9a0000000000000000000000000001";
// FCM's tokens look like this: an instance id, ':', then base64url-ish text; case matters.
const std::string fcm_token = "cD3fQ2xYz:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx_4q8Zr";

class PlatformApi : public ::testing::Test {
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

TEST_F(PlatformApi, AnFcmDeviceJoinsAGroupOfApnsDevicesWithItsTokenAsGiven) {
    auto r = nginx.request("PUT", dev + "/" + apns_token, register_body());
    ASSERT_TRUE(answers(r, 201));
    EXPECT_EQ(json_of(r)["platform"], "apns");  // absent: apns, and said so

    r = nginx.request("PUT", dev + "/" + fcm_token, register_body("com.example.app", R"(,"platform":"fcm","app_version":"2.0")"));
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
    r = nginx.request("PUT", dev + "/" + fcm_token, register_body("com.example.app", R"(,"platform":"fcm")"));
    ASSERT_TRUE(answers(r, 200));

    // The listing names each device's platform.
    r = nginx.request("GET", dev);
    ASSERT_TRUE(answers(r, 200));
    body = json_of(r);
    ASSERT_EQ(body["devices"].size(), 2u);
    std::set<std::string> platforms;
    for (const auto& device : body["devices"]) platforms.insert(device.value("platform", ""));
    EXPECT_EQ(platforms, (std::set<std::string>{"apns", "fcm"}));

    // A notify from the Android device reaches the other one.
    r = nginx.request("POST", "/v1/groups/" + g + "/notify", R"({"tail":"T-1","origin":")" + fcm_token + "\"}");
    ASSERT_TRUE(answers(r, 202)) << r.body;
    EXPECT_EQ(json_of(r)["devices"], 1);
    const auto queued = queue_entries(nginx.queue_path());
    ASSERT_EQ(queued.size(), 1u);
    EXPECT_EQ(queued[0].origin, fcm_token);

    // Unregistered by its token as given.
    r = nginx.request("DELETE", dev + "/" + fcm_token);
    EXPECT_EQ(r.status, 204);
    EXPECT_FALSE(stored_device(nginx.store_path(), fcm_token));
}

TEST_F(PlatformApi, AnOriginLongerThanAQueueSlotTravelsAsItsHash) {
    const std::string long_token = "cD3f:" + std::string(295, 'Q');  // 300: more than a slot's 200
    ASSERT_TRUE(answers(nginx.request("PUT", dev + "/" + long_token, register_body("com.example.app", R"(,"platform":"fcm")")), 201));
    ASSERT_TRUE(answers(nginx.request("PUT", dev + "/" + apns_token, register_body()), 201));
    auto r = nginx.request("POST", "/v1/groups/" + g + "/notify", R"({"tail":"T-2","origin":")" + long_token + "\"}");
    ASSERT_TRUE(answers(r, 202)) << r.body;
    EXPECT_EQ(json_of(r)["devices"], 1);
    const auto queued = queue_entries(nginx.queue_path());
    ASSERT_EQ(queued.size(), 1u);
    EXPECT_EQ(queued[0].origin, queued_origin(long_token));
    EXPECT_TRUE(is_origin(queued[0].origin, long_token));
}

TEST_F(PlatformApi, EachPlatformItsOwnRulesAndRefusalsChangeNothing) {
    ASSERT_TRUE(answers(nginx.request("PUT", dev + "/" + apns_token, register_body()), 201));
    snapshot();
    const auto put = [&](const std::string& token, const std::string& extra) {
        return nginx.request("PUT", dev + "/" + token, register_body("com.example.app", extra));
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
    expect_rejected(nginx.request("PUT", dev + "/" + fcm_token, register_body("com.example.prodonly", R"(,"platform":"fcm")")),
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
    expect_rejected(nginx.request("POST", "/v1/groups/" + g + "/notify", R"({"tail":"T-1","origin":"no/such"})"), 400,
                    "invalid_token");
}

}  // namespace
}  // namespace pushsync::test
