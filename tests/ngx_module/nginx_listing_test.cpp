// SPDX-License-Identifier: BSD-2-Clause
// Group listings through a real nginx: token_prefix instead of tokens unless
// pushsync_list_tokens (merged http -> location), paging with limit and an opaque cursor.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "shared/store/store.hpp"
#include "tests/ngx_module/test_helpers.hpp"

namespace pushsync::test {
namespace {

// Random-looking 64-hex tokens (as APNs hands out), distinct, n of them.
std::vector<std::string> tokens(unsigned n, unsigned seed) {
    std::vector<std::string> out;
    std::uint64_t x = 0x9e3779b97f4a7c15ull * (seed + 1);
    static constexpr char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; ++i) {
        std::string t;
        for (int part = 0; part < 4; ++part) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for (int k = 0; k < 16; ++k) t += hex[(x >> (4 * k)) & 0xf];
        }
        out.push_back(t);
    }
    return out;
}

// Writes the devices straight into the store nginx will open (before it starts): 2,500
// registrations through curl would take most of the test's time and prove nothing more.
void seed_store(const NginxFixture& nginx, const std::string& group, const std::vector<std::string>& group_tokens) {
    StoreOptions options;
    options.path = nginx.store_path().string();
    options.map_size = 64ull << 20;
    Store store(options);
    std::vector<Registration> batch;
    for (const auto& t : group_tokens) batch.push_back({t, group, "com.example.app", Environment::production, "1.0"});
    store.register_devices(batch, now_unix_ms());
}

// Every byte string a token shows up as: its hex, upper and lower case.
bool contains_token(const std::string& text, const std::string& token) {
    std::string upper = token;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    return text.find(token) != std::string::npos || text.find(upper) != std::string::npos;
}

std::string base64url_decode(const std::string& text) {
    std::string out;
    std::uint32_t bits = 0;
    int count = 0;
    for (char c : text) {
        int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52 : c == '-' ? 62 : 63;
        bits = (bits << 6) | static_cast<std::uint32_t>(v);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xff);
        }
    }
    return out;
}

std::string token_bytes(const std::string& token) {
    std::string out;
    for (std::size_t i = 0; i + 1 < token.size(); i += 2) out += static_cast<char>(std::stoi(token.substr(i, 2), nullptr, 16));
    return out;
}

TEST(ModuleListing, PagesWalkA2500DeviceGroupExactlyOnceAndNoTokenLeaks) {
    NginxFixture nginx(NginxOptions{.start = false});
    const auto all = tokens(2500, 1);
    seed_store(nginx, "big", all);
    nginx.start();

    std::vector<std::string> seen_prefixes;
    std::vector<std::string> bodies;
    std::vector<std::string> cursors;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
        const auto r = nginx.request("GET", "/v1/groups/big/devices" + (cursor.empty() ? "" : "?cursor=" + cursor));
        ASSERT_TRUE(answers(r, 200));
        bodies.push_back(r.body);
        const auto body = json_of(r);
        ASSERT_EQ(body["group"], "big");
        for (const auto& entry : body["devices"]) {
            ASSERT_FALSE(entry.contains("token")) << entry;
            seen_prefixes.push_back(entry["token_prefix"]);
            EXPECT_EQ(entry["bundle_id"], "com.example.app");
        }
        if (!body.contains("next")) break;
        EXPECT_EQ(body["devices"].size(), 1000u);  // the default limit
        cursor = body["next"];
        cursors.push_back(cursor);
    }
    // 1000 + 1000 + 500, each device once (in the store's keyed order, contract 1.2): the prefixes
    // are exactly the tokens' prefixes.
    ASSERT_EQ(bodies.size(), 3u);
    ASSERT_EQ(cursors.size(), 2u);
    std::vector<std::string> expected;
    for (const auto& t : all) expected.push_back(t.substr(0, 8));
    std::sort(expected.begin(), expected.end());
    auto seen_sorted = seen_prefixes;
    std::sort(seen_sorted.begin(), seen_sorted.end());
    ASSERT_EQ(seen_sorted, expected);

    // No full token anywhere in any body or cursor, as hex or as the token's bytes.
    for (const auto& t : all) {
        for (const auto& b : bodies) ASSERT_FALSE(contains_token(b, t)) << t;
        for (const auto& c : cursors) {
            ASSERT_FALSE(contains_token(c, t)) << c;
            ASSERT_EQ(base64url_decode(c).find(token_bytes(t).substr(0, 6)), std::string::npos) << c;
        }
    }
    // The same position sealed twice gives two different cursors (a fresh nonce each time),
    // and both work: a cursor is no fixed encoding of the token it stands for.
    const auto again = json_of(nginx.request("GET", "/v1/groups/big/devices"));
    EXPECT_NE(again["next"], cursors[0]);
    const auto via_again = json_of(nginx.request("GET", "/v1/groups/big/devices?limit=1&cursor=" + std::string(again["next"])));
    EXPECT_EQ(via_again["devices"][0]["token_prefix"], seen_prefixes[1000]);
}

TEST(ModuleListing, LimitPagesAndBadLimitsOrCursorsAre400) {
    NginxFixture nginx(NginxOptions{.start = false});
    auto five = tokens(5, 2);
    seed_store(nginx, "g", five);
    seed_store(nginx, "h", tokens(3, 3));
    nginx.start();
    std::vector<std::string> in_order;  // the listing's one order (contract 1.2: not the tokens')
    const auto whole = json_of(nginx.request("GET", "/v1/groups/g/devices"));
    for (const auto& e : whole["devices"]) in_order.push_back(e["token_prefix"]);
    ASSERT_EQ(in_order.size(), 5u);

    std::string cursor;
    std::vector<std::string> seen;
    for (int page = 0; page < 5; ++page) {
        const auto r = nginx.request("GET", "/v1/groups/g/devices?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
        ASSERT_TRUE(answers(r, 200));
        const auto body = json_of(r);
        for (const auto& e : body["devices"]) seen.push_back(e["token_prefix"]);
        if (!body.contains("next")) break;
        cursor = body["next"];
    }
    ASSERT_EQ(seen.size(), 5u);
    EXPECT_EQ(seen, in_order);
    // A full last page has no next when nothing remains.
    EXPECT_FALSE(json_of(nginx.request("GET", "/v1/groups/g/devices?limit=5")).contains("next"));

    for (const char* query : {"limit=0", "limit=1001", "limit=abc", "limit=-1", "limit=", "limit=1&limit=2",
                              "limit=99999", "cursor=", "cursor=abc", "cursor=!!!!"}) {
        EXPECT_TRUE(answers(nginx.request("GET", std::string("/v1/groups/g/devices?") + query), 400, "invalid_field"))
            << query;
    }
    const std::string g_cursor = json_of(nginx.request("GET", "/v1/groups/g/devices?limit=1"))["next"];
    // Another group's cursor, and a cursor with one character changed, are refused.
    EXPECT_TRUE(answers(nginx.request("GET", "/v1/groups/h/devices?cursor=" + g_cursor), 400, "invalid_field"));
    std::string tampered = g_cursor;
    tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
    EXPECT_TRUE(answers(nginx.request("GET", "/v1/groups/g/devices?cursor=" + tampered), 400, "invalid_field"));
    EXPECT_TRUE(answers(nginx.request("GET", "/v1/groups/g/devices?limit=1000&other=x"), 200));
    EXPECT_TRUE(answers(nginx.request("GET", "/v1/groups/none/devices?limit=3"), 404, "unknown_group"));
}

TEST(ModuleListing, ListTokensOnGivesWholeDeviceObjectsAndMergesLikeNginx) {
    NginxFixture nginx(NginxOptions{
        .http_extra = "pushsync_list_tokens on;",
        .server_extra = "location /v2/ { pushsync_api; pushsync_list_tokens off; }",
        .start = false,
    });
    auto three = tokens(3, 4);
    seed_store(nginx, "g", three);
    nginx.start();
    const auto on = json_of(nginx.request("GET", "/v1/groups/g/devices"));  // inherits http's on
    ASSERT_EQ(on["devices"].size(), 3u);
    std::set<std::string> listed;
    for (std::size_t i = 0; i < 3; ++i) {
        listed.insert(on["devices"][i]["token"]);
        EXPECT_FALSE(on["devices"][i].contains("token_prefix"));
    }
    EXPECT_EQ(listed, std::set<std::string>(three.begin(), three.end()));
    const auto r = nginx.request("GET", "/v2/groups/g/devices");  // its own off
    ASSERT_TRUE(answers(r, 200));
    for (const auto& t : three) EXPECT_FALSE(contains_token(r.body, t));
    EXPECT_EQ(json_of(r)["devices"][0]["token_prefix"], std::string(on["devices"][0]["token"]).substr(0, 8));
}

// Contract 1.2, the attack of issue 25: a stranger who knows the group registers probes that
// share a member's 8-digit prefix (each marked by its app_version) and reads from where each
// probe is listed whether the member's token is above or below it. The listing's order must
// carry no such information: with 32 probes below the member and 32 above, the probes listed
// before it are exactly those below with a chance of 32!·32!/65! < 2^-66 when the order is
// independent of the tokens; by token it is certain.
TEST(ModuleListing, OrderAroundAMemberRevealsNothingOfItsToken) {
    NginxFixture nginx;
    std::random_device seed;
    std::mt19937_64 random(seed());
    static constexpr char hex[] = "0123456789abcdef";
    const auto random_hex = [&](std::size_t n) {
        std::string out;
        for (std::size_t i = 0; i < n; ++i) out += hex[random() & 0xf];
        return out;
    };
    const std::string prefix = random_hex(8);
    // The member's 9th digit is 8: probes with 0-7 there sort below it, with 9-f above.
    const std::string member = prefix + "8" + random_hex(55);
    std::map<std::string, std::string> token_of;  // app_version -> token
    std::set<std::string> below;                   // app_versions of the probes below the member
    for (int i = 0; i < 64; ++i) {
        const std::string version = "probe-" + std::to_string(i);
        const char ninth = i < 32 ? hex[random() % 8] : hex[9 + random() % 7];
        token_of[version] = prefix + ninth + random_hex(55);
        if (i < 32) below.insert(version);
    }
    token_of["member"] = member;
    std::vector<std::string> order;
    for (const auto& [version, token] : token_of) order.push_back(version);
    std::shuffle(order.begin(), order.end(), random);
    for (const auto& version : order) {
        ASSERT_TRUE(answers(nginx.request("PUT", "/v1/groups/g/devices/" + token_of[version],
                                          register_body("com.example.app", R"(,"app_version":")" + version + "\"")),
                            201));
    }

    const auto listed = json_of(nginx.request("GET", "/v1/groups/g/devices"));
    std::vector<std::string> versions;
    for (const auto& entry : listed["devices"]) {
        ASSERT_EQ(entry["token_prefix"], prefix);
        versions.push_back(entry["app_version"]);
    }
    ASSERT_EQ(versions.size(), 65u);
    const auto at = std::find(versions.begin(), versions.end(), "member");
    ASSERT_NE(at, versions.end());
    const std::set<std::string> listed_before(versions.begin(), at);
    EXPECT_NE(listed_before, below) << "every probe is listed on the side of the member its token predicts";

    // Every limit from 1 to 65 pages through each entry exactly once, in the one order.
    for (int limit = 1; limit <= 65; ++limit) {
        std::vector<std::string> paged;
        std::string cursor;
        for (int page = 0; page <= 65; ++page) {
            const auto r = nginx.request("GET", "/v1/groups/g/devices?limit=" + std::to_string(limit) +
                                                    (cursor.empty() ? "" : "&cursor=" + cursor));
            ASSERT_TRUE(answers(r, 200)) << limit;
            const auto body = json_of(r);
            for (const auto& entry : body["devices"]) paged.push_back(entry["app_version"]);
            if (!body.contains("next")) break;
            cursor = body["next"];
        }
        EXPECT_EQ(paged, versions) << "limit=" << limit;
    }
}

// The order is the store's, not a worker's or a configuration's: the same after a reload and
// after a restart, and a cursor from before either still continues where it stopped.
TEST(ModuleListing, OrderAndCursorsHoldAcrossReloadAndRestart) {
    NginxFixture nginx(NginxOptions{.start = false});
    seed_store(nginx, "g", tokens(40, 7));
    nginx.start();
    const auto prefixes = [&](const nlohmann::json& body) {
        std::vector<std::string> out;
        for (const auto& e : body["devices"]) out.push_back(e["token_prefix"]);
        return out;
    };
    const auto all = prefixes(json_of(nginx.request("GET", "/v1/groups/g/devices")));
    ASSERT_EQ(all.size(), 40u);
    const std::string cursor = json_of(nginx.request("GET", "/v1/groups/g/devices?limit=10"))["next"];
    const std::vector<std::string> rest(all.begin() + 10, all.end());
    // Both workers answer (curl opens a connection per request); each gives the same order.
    for (int i = 0; i < 6; ++i) EXPECT_EQ(prefixes(json_of(nginx.request("GET", "/v1/groups/g/devices"))), all);
    nginx.reload();
    EXPECT_EQ(prefixes(json_of(nginx.request("GET", "/v1/groups/g/devices"))), all);
    EXPECT_EQ(prefixes(json_of(nginx.request("GET", "/v1/groups/g/devices?cursor=" + cursor))), rest);
    nginx.stop();
    nginx.start();
    EXPECT_EQ(prefixes(json_of(nginx.request("GET", "/v1/groups/g/devices"))), all);
    EXPECT_EQ(prefixes(json_of(nginx.request("GET", "/v1/groups/g/devices?cursor=" + cursor))), rest);
}

}  // namespace
}  // namespace pushsync::test
