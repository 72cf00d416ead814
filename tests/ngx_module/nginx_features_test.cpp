// SPDX-License-Identifier: BSD-2-Clause
// The module's directives and failure answers: queue full, staged rollout with split_clients,
// require_origin, limit_req on $pushsync_group, store full / unavailable, a broken pushsync.yaml.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/ngx_module/store_probe.hpp"
#include "tests/ngx_module/test_helpers.hpp"

namespace pushsync::test {
namespace {

const std::string t1 = "aaaa0000000000000000000000000001";
const std::string t2 = "aaaa0000000000000000000000000002";

void register_two(const NginxFixture& nginx, const std::string& group) {
    for (const auto& t : {t1, t2}) {
        ASSERT_EQ(nginx.request("PUT", "/v1/groups/" + group + "/devices/" + t, register_body()).status, 201);
    }
}

TEST(ModuleQueue, FullQueueAnswers503WithRetryAfterAndKeepsEverythingElse) {
    NginxFixture nginx(NginxOptions{.queue_capacity = 8});
    register_two(nginx, "g");
    for (int i = 0; i < 8; ++i) {
        const auto r = nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T-)" + std::to_string(i) + "\"}");
        ASSERT_TRUE(answers(r, 202)) << i;
    }
    for (Protocol p : all_protocols) {
        const auto r = nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T-x"})", {}, p);
        EXPECT_TRUE(answers(r, 503, "queue_full")) << to_string(p);
        EXPECT_EQ(r.header("retry-after"), "1");
    }
    const auto entries = queue_entries(nginx.queue_path());
    ASSERT_EQ(entries.size(), 8u);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(entries[static_cast<std::size_t>(i)].tail, "T-" + std::to_string(i));
    const auto status = json_of(nginx.request("GET", "/pushsync/status"));
    EXPECT_EQ(status["queue"]["depth"], 8);
    EXPECT_EQ(status["counters"]["notifies_accepted"], 8);
    EXPECT_EQ(status["counters"]["notifies_rejected"], 3);
}

TEST(ModuleQueue, ResetQueueFileIsReopenedByEveryWorker) {
    NginxFixture nginx(NginxOptions{.queue_capacity = 8});
    register_two(nginx, "g");
    for (int i = 0; i < 8; ++i) {
        ASSERT_TRUE(answers(nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T-old"})"), 202)) << i;
    }
    Queue::reset(nginx.queue_path(), 8);
    // The workers hold the old, full file; whichever takes a request must move to the new one
    // rather than answer queue_full until nginx restarts.
    for (int i = 0; i < 8; ++i) {
        const auto r = nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T-new-)" + std::to_string(i) + "\"}");
        ASSERT_TRUE(answers(r, 202)) << i;
    }
    const auto entries = queue_entries(nginx.queue_path());
    ASSERT_EQ(entries.size(), 8u);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(entries[static_cast<std::size_t>(i)].tail, "T-new-" + std::to_string(i));
}

TEST(ModulePushSwitch, SplitClientsDisablesPushesForItsShare) {
    NginxFixture nginx(NginxOptions{
        .queue_capacity = 1024,
        .http_extra = R"(split_clients "${http_x_client}" $pushsync_rollout { 30% off; * on; })",
        .api_location_extra = "pushsync_push $pushsync_rollout;",
    });
    register_two(nginx, "g");
    int disabled = 0;
    int queued = 0;
    std::map<std::string, std::string> outcome;
    for (int i = 0; i < 60; ++i) {
        const std::string client = "X-Client: client-" + std::to_string(i);
        const auto r = nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T-1"})", {client});
        const auto body = json_of(r);
        if (r.status == 200 && body["status"] == "disabled") {
            ++disabled;
            EXPECT_EQ(body["devices"], 2);
        } else {
            ASSERT_TRUE(answers(r, 202));
            ++queued;
        }
        outcome[client] = body["status"];
    }
    EXPECT_GT(disabled, 0);
    EXPECT_GT(queued, disabled);  // 30% off
    EXPECT_EQ(queue_entries(nginx.queue_path()).size(), static_cast<std::size_t>(queued));  // nothing queued when disabled
    // The same client always gets the same answer: the split is by key, not by chance.
    for (const auto& [client, status] : outcome) {
        EXPECT_EQ(json_of(nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T-2"})", {client}))["status"], status);
    }
}

TEST(ModulePushSwitch, LiteralOffAndZeroDisable) {
    NginxFixture nginx(NginxOptions{.server_extra = R"(
    location /off/ { pushsync_api; pushsync_push off; }
    location /zero/ { pushsync_api; pushsync_push 0; })"});
    register_two(nginx, "g");
    for (const char* prefix : {"/off/", "/zero/"}) {
        const auto r = nginx.request("POST", std::string(prefix) + "groups/g/notify", R"({"tail":"T-1"})");
        ASSERT_TRUE(answers(r, 200)) << prefix;
        EXPECT_EQ(json_of(r)["status"], "disabled");
    }
    EXPECT_TRUE(queue_entries(nginx.queue_path()).empty());
    EXPECT_TRUE(answers(nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T-1"})"), 202));
}

TEST(ModuleRequireOrigin, StrangerGets403MemberIsQueued) {
    NginxFixture nginx(NginxOptions{.api_location_extra = "pushsync_require_origin on;"});
    register_two(nginx, "g");
    const std::string stranger = "bbbb0000000000000000000000000009";
    for (Protocol p : all_protocols) {
        const auto r = nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T","origin":")" + stranger + "\"}", {}, p);
        EXPECT_TRUE(answers(r, 403, "origin_not_member")) << to_string(p);
    }
    EXPECT_TRUE(queue_entries(nginx.queue_path()).empty());
    auto r = nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T","origin":")" + t1 + "\"}");
    ASSERT_TRUE(answers(r, 202));
    EXPECT_EQ(json_of(r)["devices"], 1);
    EXPECT_EQ(queue_entries(nginx.queue_path()).size(), 1u);
}

// Contract 1.2: with the directive on, a notify without origin would reach the whole group on
// nothing but its id; it is refused and nothing is queued.
TEST(ModuleRequireOrigin, NotifyWithoutOriginIs403OriginRequired) {
    NginxFixture nginx(NginxOptions{.api_location_extra = "pushsync_require_origin on;"});
    register_two(nginx, "g");
    for (Protocol p : all_protocols) {
        EXPECT_TRUE(answers(nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T"})", {}, p), 403, "origin_required"))
            << to_string(p);
    }
    // An unknown group is still 404 first: the refusal tells nothing about a group's members.
    EXPECT_TRUE(answers(nginx.request("POST", "/v1/groups/nobody/notify", R"({"tail":"T"})"), 404, "unknown_group"));
    EXPECT_TRUE(queue_entries(nginx.queue_path()).empty());
}

TEST(ModuleRequireOrigin, OffByDefaultAStrangerOriginNotifiesEveryone) {
    NginxFixture nginx;
    register_two(nginx, "g");
    const auto r = nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T","origin":"bbbb0000000000000000000000000009"})");
    ASSERT_TRUE(answers(r, 202));
    EXPECT_EQ(json_of(r)["devices"], 2);
}

TEST(ModuleLimitReq, KeyedOnPushsyncGroupLimitsOneGroupOnly) {
    NginxFixture nginx(NginxOptions{
        .http_extra = "limit_req_zone $pushsync_group zone=pushsync_groups:1m rate=1r/m;",
        .api_location_extra = "limit_req zone=pushsync_groups burst=2 nodelay; limit_req_status 429;",
    });
    // Both workers share the zone: 1 + burst 2 pass, the next is limited, whatever the worker.
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(answers(nginx.request("GET", "/v1/groups/busy/devices"), 404, "unknown_group"));
    EXPECT_EQ(nginx.request("GET", "/v1/groups/busy/devices").status, 429);
    EXPECT_EQ(nginx.request("GET", "/v1/groups/busy/devices", {}, {}, Protocol::h2c).status, 429);
    // Another group is untouched.
    EXPECT_TRUE(answers(nginx.request("GET", "/v1/groups/quiet/devices"), 404, "unknown_group"));
    EXPECT_EQ(nginx.request("PUT", "/v1/groups/quiet/devices/" + t1, register_body()).status, 201);
    EXPECT_EQ(nginx.request("GET", "/v1/groups/quiet/devices").status, 200);
    // The variable is in the access log too.
    EXPECT_NE(read_file(nginx.prefix() / "logs/access.log").find("group=quiet"), std::string::npos);
}

TEST(ModuleStore, FullMapAnswers507AndWritesNothing) {
    NginxFixture nginx(NginxOptions{.map_size = "128KiB"});
    int created = 0;
    HttpResponse r;
    std::string before;
    for (unsigned i = 0; i < 5000; ++i) {
        before = store_dump(nginx.store_path());
        r = nginx.request("PUT", "/v1/groups/g" + std::to_string(i) + "/devices/" + make_token(i),
                          register_body("com.example.app", R"(,"app_version":")" + std::string(60, 'v') + "\""));
        if (r.status != 201) break;
        ++created;
    }
    ASSERT_GT(created, 0);
    EXPECT_TRUE(answers(r, 507, "store_full"));
    EXPECT_EQ(store_dump(nginx.store_path()), before);
    // The same answer whatever the protocol: the error is built once, not per transport.
    for (Protocol p : all_protocols) {
        const auto again = nginx.request("PUT", "/v1/groups/g" + std::to_string(created) + "/devices/" + make_token(created),
                                         register_body("com.example.app", R"(,"app_version":")" + std::string(60, 'v') + "\""),
                                         {}, p);
        EXPECT_TRUE(answers(again, 507, "store_full")) << to_string(p);
    }
    EXPECT_EQ(store_dump(nginx.store_path()), before);
    EXPECT_TRUE(store_problems(nginx.store_path()).empty());
    // Reads still work.
    EXPECT_EQ(nginx.request("GET", "/v1/groups/g0/devices").status, 200);
}

TEST(ModuleStore, UnopenableStoreAnswers503) {
    NginxFixture nginx(NginxOptions{.start = false});
    // A file where the store directory should be: LMDB cannot open it.
    write_file(nginx.store_path(), "not a directory");
    nginx.start();
    for (Protocol p : all_protocols) {
        SCOPED_TRACE(to_string(p));
        EXPECT_TRUE(answers(nginx.request("PUT", "/v1/groups/g/devices/" + t1, register_body(), {}, p), 503, "store_unavailable"));
        EXPECT_TRUE(answers(nginx.request("GET", "/v1/groups/g/devices", {}, {}, p), 503, "store_unavailable"));
        EXPECT_TRUE(answers(nginx.request("DELETE", "/v1/groups/g/devices/" + t1, {}, {}, p), 503, "store_unavailable"));
        EXPECT_TRUE(answers(nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"t"})", {}, p), 503, "store_unavailable"));
    }
    // Validation still comes first.
    EXPECT_TRUE(answers(nginx.request("PUT", "/v1/groups/g/devices/xyz", register_body()), 400, "invalid_token"));
    EXPECT_NE(nginx.error_log().find("pushsync: store unavailable"), std::string::npos);
}

TEST(ModuleQueue, UnopenableQueueAnswers503WithRetryAfterAndHealsOnceFixed) {
    NginxFixture nginx(NginxOptions{.start = false});
    // Not a queue file: wrong magic and size, so Queue::open refuses it.
    write_file(nginx.queue_path(), "not a queue");
    nginx.start();
    register_two(nginx, "g");
    for (Protocol p : all_protocols) {
        const auto r = nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T-1"})", {}, p);
        EXPECT_TRUE(answers(r, 503, "store_unavailable")) << to_string(p);
        EXPECT_EQ(r.header("retry-after"), "1") << to_string(p);
    }
    EXPECT_NE(nginx.error_log().find("pushsync: queue unavailable"), std::string::npos);
    // Each request retries the open: once the file is fixed the same workers queue again.
    std::filesystem::remove(nginx.queue_path());  // the next open creates it
    for (int i = 0; i < 4; ++i) {
        ASSERT_TRUE(answers(nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T-2"})"), 202)) << i;
    }
    EXPECT_EQ(queue_entries(nginx.queue_path()).size(), 4u);
}

TEST(ModuleConfig, BrokenPushsyncYamlFailsNginxTestWithTheLine) {
    NginxFixture nginx(NginxOptions{.start = false});
    write_file(nginx.config_path(), "store:\n  path: /tmp/x\nqueue:\n  path: /tmp/y\n  capacity: 7\napps: []\n");
    const auto result = nginx.test_config();
    EXPECT_NE(result.exit_code, 0);
    const std::string output = result.err + nginx.error_log();
    // ConfigError's "FILE:LINE: KEY:" prefix: capacity 7 is on line 5.
    EXPECT_NE(output.find("pushsync.yaml:5: queue.capacity:"), std::string::npos) << output;
    EXPECT_NE(output.find("[emerg]"), std::string::npos) << output;
}

TEST(ModuleConfig, ApiWithoutPushsyncConfigIsRefused) {
    NginxFixture nginx(NginxOptions{.start = false});
    std::string conf = read_file(nginx.nginx_conf_path());
    const auto at = conf.find("  pushsync_config ");
    conf.erase(at, conf.find('\n', at) - at);
    write_file(nginx.nginx_conf_path(), conf);
    const auto result = nginx.test_config();
    EXPECT_NE(result.exit_code, 0);
    EXPECT_NE((result.err + nginx.error_log()).find("need \"pushsync_config FILE;\""), std::string::npos);
}

TEST(ModuleConfig, ValidConfigPassesNginxTest) {
    NginxFixture nginx(NginxOptions{.start = false});
    const auto result = nginx.test_config();
    EXPECT_EQ(result.exit_code, 0) << result.err;
}

}  // namespace
}  // namespace pushsync::test
