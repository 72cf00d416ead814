// SPDX-License-Identifier: BSD-2-Clause
// conf/nginx.conf and conf/pushsync.yaml, the examples hosters copy, work as shipped: only
// paths, ports and the user are swapped for the test's own.
#include <gtest/gtest.h>

#include <unistd.h>

#include <set>
#include <utility>

#include "shared/config/config.hpp"
#include "tests/ngx_module/store_probe.hpp"
#include "tests/ngx_module/test_helpers.hpp"
#include "tests/support/example_conf.hpp"
#include "tests/support/hidden_tokens.hpp"

namespace pushsync::test {
namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    ASSERT_NE(text.find(from), std::string::npos) << "the example no longer contains: " << from;
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
}

TEST(ConfExample, PushsyncYamlLoads) {
    const Config config = load_config((source_dir() / "conf/pushsync.yaml").string());
    EXPECT_EQ(config.store.path, "/var/lib/pushsync/store");
    EXPECT_EQ(config.queue.path, "/run/pushsync/queue");
    EXPECT_EQ(config.store.sync, SyncMode::always);
    EXPECT_EQ(config.queue.capacity, 65536u);
    ASSERT_EQ(config.apps.size(), 1u);
    EXPECT_EQ(config.apps[0].bundle_id, "com.example.app");
}

TEST(ConfExample, NginxConfServesTheApiOverTls) {
    NginxFixture nginx(NginxOptions{.start = false});
    const auto p = nginx.prefix();

    std::string yaml = read_file(source_dir() / "conf/pushsync.yaml");
    replace_all(yaml, "/var/lib/pushsync/store", nginx.store_path().string());
    replace_all(yaml, "/run/pushsync/queue", nginx.queue_path().string());
    write_file(nginx.config_path(), yaml);

    write_example_nginx_conf(nginx, "conf/nginx.conf", {{"/etc/pushsync/pushsync.yaml", nginx.config_path().string()}});

    const auto tested = nginx.test_config();
    ASSERT_EQ(tested.exit_code, 0) << tested.err << nginx.error_log();
    nginx.start();

    const std::string token = "3f9a0000000000000000000000000001";
    auto r = nginx.request("PUT", "/v1/groups/g-7c1e/devices/" + token, register_body(), {}, Protocol::h2_tls);
    ASSERT_TRUE(answers(r, 201));
    EXPECT_EQ(r.protocol, "HTTP/2");
    EXPECT_TRUE(stored_device(nginx.store_path(), token));
    r = nginx.request("POST", "/v1/groups/g-7c1e/notify", R"({"tail":"T-1"})", {}, Protocol::h2_tls);
    EXPECT_TRUE(answers(r, 403, "origin_required"));  // the example has pushsync_require_origin on
    r = nginx.request("POST", "/v1/groups/g-7c1e/notify", R"({"tail":"T-1","origin":")" + token + "\"}",
                      {}, Protocol::h2_tls);
    EXPECT_TRUE(answers(r, 200));  // its only device made the change: nothing to notify
    r = nginx.request("POST", "/v1/groups/g-7c1e/notify",
                      R"({"tail":"T-1","origin":"3f9a0000000000000000000000000009"})", {}, Protocol::h2_tls);
    EXPECT_TRUE(answers(r, 403, "origin_not_member"));
    EXPECT_TRUE(answers(nginx.request("GET", "/pushsync/status", {}, {}, Protocol::h2_tls), 200));  // from 127.0.0.1
    EXPECT_NE(read_file(p / "logs/pushsync.log").find("group=g-7c1e"), std::string::npos);

    // Oversized bodies get the contract's JSON 413 both below client_max_body_size (the module's
    // own check) and above it (nginx's refusal, through the example's error_page), with or without
    // a Content-Length. h2c is left out: curl drops nginx's early answer to an HTTP/2 upload still
    // in flight over cleartext (curl exit 92) whoever writes it.
    const std::string before = store_dump(nginx.store_path());
    for (const std::size_t pad : {std::size_t{5000}, std::size_t{32000}}) {
        const std::string big = register_body("com.example.app", R"(,"pad":")" + std::string(pad, 'x') + "\"");
        for (const auto& [protocol, headers] : std::vector<std::pair<Protocol, std::vector<std::string>>>{
                 {Protocol::http1, {}}, {Protocol::http1, {"Transfer-Encoding: chunked"}}, {Protocol::h2_tls, {}}}) {
            r = nginx.request("PUT", "/v1/groups/g-7c1e/devices/" + token, big, headers, protocol);
            EXPECT_TRUE(answers(r, 413, "body_too_large"))
                << to_string(protocol) << " pad=" << pad << (headers.empty() ? "" : " chunked");
        }
    }
    EXPECT_EQ(store_dump(nginx.store_path()), before);

    // The per-address limit on registrations: a new group in every PUT (so the per-group limit
    // never applies) is stopped after the burst, while the same address still reads.
    bool limited = false;
    for (unsigned i = 0; i < 200 && !limited; ++i) {
        r = nginx.request("PUT", "/v1/groups/burst-" + std::to_string(i) + "/devices/" + make_token(i), register_body());
        if (r.status == 429) limited = true;
        else ASSERT_TRUE(answers(r, 201)) << i;
    }
    EXPECT_TRUE(limited);
    EXPECT_TRUE(answers(nginx.request("GET", "/v1/groups/g-7c1e/devices"), 200));

    // Every log the example writes (its access logs, and the error log with limit_req's
    // refusals) names a device by its prefix only.
    std::set<std::string> tokens = {token, "3f9a0000000000000000000000000009"};
    for (unsigned i = 0; i < 200; ++i) tokens.insert(make_token(i));
    EXPECT_EQ(describe(full_tokens_in_files(tokens, nginx_logs(nginx))), "");
    EXPECT_NE(read_file(p / "logs/pushsync.log").find("\"PUT /v1/groups/g-7c1e/devices/3f9a0000... HTTP/2.0\" 201"),
              std::string::npos);
    EXPECT_NE(nginx.error_log().find("limiting requests"), std::string::npos);
}

}  // namespace
}  // namespace pushsync::test
