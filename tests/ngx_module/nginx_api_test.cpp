// SPDX-License-Identifier: BSD-2-Clause
// Every endpoint, status and error code of docs/api.md against a real nginx with 2 workers,
// over HTTP/1.1, h2c and h2 over TLS; the store is checked after each call and every 4xx
// leaves it (and the queue) unchanged.
#include <gtest/gtest.h>

#include "tests/ngx_module/store_probe.hpp"
#include "tests/ngx_module/test_helpers.hpp"

namespace pushsync::test {
namespace {

class ApiOverProtocol : public ::testing::TestWithParam<Protocol> {
protected:
    NginxFixture nginx{NginxOptions{.queue_capacity = 64}};

    HttpResponse call(std::string_view method, std::string_view path, std::string_view body = {},
                      const std::vector<std::string>& headers = {}) {
        return nginx.request(method, path, body, headers, GetParam());
    }

    // A 4xx that must change nothing: neither the store nor the queue.
    void expect_rejected(const HttpResponse& r, int status, const std::string& code) {
        EXPECT_TRUE(answers(r, status, code));
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

}  // namespace
}  // namespace pushsync::test
