// SPDX-License-Identifier: BSD-2-Clause
// What one client may take from the store and the API, through a real nginx: the group cap (409
// group_full), the store's reserve (507 while the sender's writes keep their room), a per-address
// limit_req on registrations, and auth_request in front of the API.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

#include "shared/config/config.hpp"
#include "shared/store/store.hpp"
#include "tests/ngx_module/store_probe.hpp"
#include "tests/ngx_module/test_helpers.hpp"

namespace pushsync::test {
namespace {

std::string dev(const std::string& group, unsigned n) {
    return "/v1/groups/" + group + "/devices/" + make_token(n);
}

TEST(ModuleLimits, FullGroupAnswers409AndKeepsRefreshesAndMembers) {
    NginxFixture nginx(NginxOptions{.store_yaml = "  max_devices_per_group: 3\n"});
    for (unsigned i = 1; i <= 3; ++i) ASSERT_TRUE(answers(nginx.request("PUT", dev("g", i), register_body()), 201)) << i;
    ASSERT_TRUE(answers(nginx.request("PUT", dev("other", 9), register_body()), 201));
    for (Protocol p : all_protocols) {
        EXPECT_TRUE(answers(nginx.request("PUT", dev("g", 4), register_body(), {}, p), 409, "group_full")) << to_string(p);
    }
    // A device of another group may not move in either; it stays where it was.
    EXPECT_TRUE(answers(nginx.request("PUT", dev("g", 9), register_body()), 409, "group_full"));
    EXPECT_EQ(stored_device(nginx.store_path(), make_token(9))->group, "other");
    EXPECT_FALSE(stored_device(nginx.store_path(), make_token(4)));
    EXPECT_EQ(stored_group(nginx.store_path(), "g").size(), 3u);
    // A member still refreshes; once one leaves, a newcomer fits.
    EXPECT_TRUE(answers(nginx.request("PUT", dev("g", 2), register_body()), 200));
    EXPECT_EQ(nginx.request("DELETE", dev("g", 1)).status, 204);
    EXPECT_TRUE(answers(nginx.request("PUT", dev("g", 4), register_body()), 201));
    EXPECT_NE(nginx.error_log().find("register failed group=g token=aaaaaaaa error=group_full"), std::string::npos);
}

TEST(ModuleLimits, DefaultCapIs1000) {
    NginxFixture nginx(NginxOptions{.start = false});
    {
        StoreOptions options;
        options.path = nginx.store_path().string();
        options.map_size = 64ull << 20;
        Store store(options);
        std::vector<Registration> batch;
        for (unsigned i = 0; i < 1000; ++i) batch.push_back({make_token(i), "g", "com.example.app", Environment::production, ""});
        store.register_devices(batch, now_unix_ms());
    }
    nginx.start();
    EXPECT_TRUE(answers(nginx.request("PUT", dev("g", 5000), register_body()), 409, "group_full"));
    EXPECT_TRUE(answers(nginx.request("PUT", dev("g", 999), register_body()), 200));
}

TEST(ModuleLimits, StoreReserveRefusesRegistrationsButNotTheSendersWritesOrRemovals) {
    NginxFixture nginx(NginxOptions{.map_size = "1MiB", .store_yaml = "  reserve_percent: 50\n", .start = false});
    const Config config = load_config(nginx.config_path().string());
    // Fill the store past half its map (straight into LMDB: thousands of PUTs would prove nothing more).
    // map_used is LMDB's high-water mark, which counts the pages on its free list as used, while the
    // reserve counts them free; each registration rewrites two trees (groups and the listing order),
    // so the free list is large: fill to 85% high water to have less than half the map really free.
    unsigned n = 0;
    {
        StoreOptions filler = StoreOptions::from(config.store);
        filler.reserve_percent = 0;
        Store store(filler);
        while (store.stats().map_used * 100 < store.stats().map_size * 85) {
            std::vector<Registration> batch;
            for (int i = 0; i < 50; ++i, ++n) batch.push_back({make_token(n), "g" + std::to_string(n / 500), "com.example.app", Environment::production, "1.0"});
            store.register_devices(batch, now_unix_ms());
        }
    }
    nginx.start();
    for (Protocol p : all_protocols) {
        EXPECT_TRUE(answers(nginx.request("PUT", dev("new", 900000), register_body(), {}, p), 507, "store_full")) << to_string(p);
        // A refresh writes too: refused alike, nothing written.
        EXPECT_TRUE(answers(nginx.request("PUT", dev("g0", 1), register_body(), {}, p), 507, "store_full"));
    }
    EXPECT_FALSE(stored_device(nginx.store_path(), make_token(900000)));
    // Removals, notifies and listings go on.
    EXPECT_EQ(nginx.request("DELETE", dev("g0", 2)).status, 204);
    EXPECT_TRUE(answers(nginx.request("POST", "/v1/groups/g0/notify", R"({"tail":"T-1"})"), 202));
    EXPECT_TRUE(answers(nginx.request("GET", "/v1/groups/g0/devices?limit=10"), 200));
    // The sender's writes (same pushsync.yaml, so the same reserve): its outbox, its dedupe
    // records and its prunes keep working in the reserve.
    {
        Store sender(StoreOptions::from(config.store));
        std::vector<OutboxEntry> outbox;
        for (std::uint64_t id = 1; id <= 200; ++id) outbox.push_back({id, "g0", "T-" + std::to_string(id), "", now_unix_ms()});
        EXPECT_NO_THROW(sender.outbox_put(outbox));
        std::vector<std::pair<std::string, std::string>> sent;
        for (unsigned i = 10; i < 200; ++i) sent.emplace_back(make_token(i), "T-1");
        EXPECT_NO_THROW(sender.record_sent(sent));
        EXPECT_EQ(sender.prune_rejected(make_token(3), Environment::production), PruneOutcome::removed);
        std::vector<std::uint64_t> ids;
        for (const auto& e : outbox) ids.push_back(e.id);
        EXPECT_NO_THROW(sender.outbox_remove(ids));
        // Once devices go, their pages count as free again and registrations are taken.
        for (unsigned g = 0; g * 500 < n; ++g) sender.remove_group("g" + std::to_string(g));
    }
    EXPECT_TRUE(answers(nginx.request("PUT", dev("new", 900000), register_body()), 201));
    EXPECT_TRUE(store_problems(nginx.store_path()).empty());
}

TEST(ModuleLimits, PerAddressLimitOnRegistrationsCatchesANewGroupPerRequest) {
    NginxFixture nginx(NginxOptions{
        .http_extra = "map $request_method $pushsync_register_addr { PUT $binary_remote_addr; default \"\"; }\n"
                      "limit_req_zone $pushsync_register_addr zone=pushsync_register:1m rate=1r/m;\n"
                      "limit_req_zone $pushsync_group zone=pushsync_groups:1m rate=1r/m;",
        .api_location_extra = "limit_req zone=pushsync_groups burst=5 nodelay; "
                              "limit_req zone=pushsync_register burst=3 nodelay; limit_req_status 429;",
    });
    // A new group per request: the per-group zone never sees the same key twice.
    for (unsigned i = 0; i < 4; ++i) {
        EXPECT_TRUE(answers(nginx.request("PUT", dev("fresh" + std::to_string(i), i), register_body()), 201)) << i;
    }
    EXPECT_EQ(nginx.request("PUT", dev("fresh9", 9), register_body()).status, 429);
    EXPECT_FALSE(stored_device(nginx.store_path(), make_token(9)));
    // Only PUTs are counted: reads, notifies and removals from the same address still pass.
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(answers(nginx.request("GET", "/v1/groups/fresh" + std::to_string(i) + "/devices"), 200));
        EXPECT_TRUE(answers(nginx.request("POST", "/v1/groups/fresh" + std::to_string(i) + "/notify", R"({"tail":"T"})"), 202));
    }
    EXPECT_EQ(nginx.request("DELETE", dev("fresh3", 3)).status, 204);
}

// The locations of a fenced ```nginx block of docs/hosting.md, the first after `marker`: name ->
// the text between the location's braces. The examples are run as written, not restated here.
std::map<std::string, std::string> documented_locations(const std::string& marker) {
    const std::string doc = read_file(source_dir() / "docs/hosting.md");
    const auto at = doc.find(marker);
    if (at == std::string::npos) throw std::runtime_error("docs/hosting.md has no " + marker);
    const auto open = doc.find("```nginx\n", at);
    const auto close = doc.find("```", open + 8);
    if (open == std::string::npos || close == std::string::npos) throw std::runtime_error("no nginx block after " + marker);
    const std::string block = doc.substr(open + 9, close - open - 9);
    std::map<std::string, std::string> out;
    for (std::size_t pos = block.find("location "); pos != std::string::npos; pos = block.find("location ", pos)) {
        const auto brace = block.find('{', pos);
        std::string name = block.substr(pos + 9, brace - pos - 9);
        while (!name.empty() && name.back() == ' ') name.pop_back();
        int depth = 1;
        std::size_t i = brace + 1;
        for (; i < block.size() && depth > 0; ++i) depth += block[i] == '{' ? 1 : block[i] == '}' ? -1 : 0;
        out[name] = block.substr(brace + 1, i - brace - 2);
        pos = i;
    }
    return out;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    if (at == std::string::npos) throw std::runtime_error("the example has no " + from);
    return text.replace(at, from.size(), to);
}

// docs/hosting.md's auth_request example, its locations exactly as written (only the account
// service's address swapped): the hoster's account service decides, nginx asks it before every
// API request. The "account service" is another server{} of the same nginx that accepts one bearer
// token. Its API location names section 3's named location for oversized bodies.
TEST(ModuleAuthRequest, ApiAnswersOnlyWithCredentials) {
    const int auth_port = free_tcp_port();
    auto example = documented_locations("**Authentication in front.**");
    const auto section3 = documented_locations("## 3. nginx.conf");
    ASSERT_EQ(example.count("/v1/"), 1u);
    ASSERT_EQ(example.count("= /_pushsync_auth"), 1u);
    ASSERT_EQ(section3.count("@pushsync_body_too_large"), 1u);
    NginxFixture nginx(NginxOptions{
        .http_extra = "server { listen 127.0.0.1:" + std::to_string(auth_port) +
                      "; location = /check { if ($http_authorization = \"Bearer s3cret\") { return 204; } return 401; } }",
        .server_extra = "location = /_pushsync_auth {" +
                        replaced(example["= /_pushsync_auth"], "127.0.0.1:9000", "127.0.0.1:" + std::to_string(auth_port)) +
                        "}\nlocation @pushsync_body_too_large {" + section3.at("@pushsync_body_too_large") + "}",
        // The fixture's own location /v1/ says pushsync_api; the example's other lines go in it.
        .api_location_extra = replaced(example["/v1/"], "pushsync_api;", ""),
    });
    const std::string good = "Authorization: Bearer s3cret";
    const std::string bad = "Authorization: Bearer guess";
    for (Protocol p : all_protocols) {
        SCOPED_TRACE(to_string(p));
        EXPECT_EQ(nginx.request("GET", "/v1/groups/g/devices", {}, {}, p).status, 401);
        EXPECT_EQ(nginx.request("GET", "/v1/groups/g/devices", {}, {bad}, p).status, 401);
        // Requests with a body are refused before it is read; curl over cleartext h2c drops such
        // an early answer (exit 92, as in conf_example_test), so they are asked over the others.
        if (p == Protocol::h2c) continue;
        EXPECT_EQ(nginx.request("PUT", dev("g", 1), register_body(), {}, p).status, 401);
        EXPECT_EQ(nginx.request("PUT", dev("g", 1), register_body(), {bad}, p).status, 401);
        EXPECT_EQ(nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T"})", {}, p).status, 401);
    }
    EXPECT_FALSE(stored_device(nginx.store_path(), make_token(1)));
    EXPECT_TRUE(answers(nginx.request("PUT", dev("g", 1), register_body(), {good}), 201));
    EXPECT_TRUE(answers(nginx.request("PUT", dev("g", 1), register_body(), {good}, Protocol::h2_tls), 200));
    EXPECT_TRUE(answers(nginx.request("GET", "/v1/groups/g/devices", {}, {good}), 200));
    EXPECT_TRUE(answers(nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"T"})", {good}, Protocol::h2c), 202));
    EXPECT_TRUE(answers(nginx.request("PUT", "/v1/groups/g/devices/xyz", register_body(), {good}), 400, "invalid_token"));
    // pushsync_list_tokens on: the authenticated client sees whole tokens.
    EXPECT_NE(nginx.request("GET", "/v1/groups/g/devices", {}, {good}).body.find(make_token(1)), std::string::npos);
    // Above client_max_body_size nginx refuses before auth_request asks: the contract's JSON 413.
    const auto big = nginx.request("PUT", dev("g", 2), std::string(20000, ' '), {good});
    EXPECT_TRUE(answers(big, 413, "body_too_large")) << big.status << " " << big.body;
    EXPECT_EQ(big.header("content-type"), "application/json");
    EXPECT_EQ(nginx.request("DELETE", dev("g", 1), {}, {bad}).status, 401);
    EXPECT_EQ(nginx.request("DELETE", dev("g", 1), {}, {good}).status, 204);
}

}  // namespace
}  // namespace pushsync::test
