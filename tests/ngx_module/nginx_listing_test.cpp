// Group listings through a real nginx: token_prefix instead of tokens unless
// pushsync_list_tokens (merged http -> location), paging with limit and an opaque cursor.
#include <gtest/gtest.h>

#include <algorithm>
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
    // 1000 + 1000 + 500, in token order, each device once: the prefixes in order are exactly the
    // sorted tokens' prefixes.
    ASSERT_EQ(bodies.size(), 3u);
    ASSERT_EQ(cursors.size(), 2u);
    auto sorted = all;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(seen_prefixes.size(), sorted.size());
    for (std::size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(seen_prefixes[i], sorted[i].substr(0, 8)) << i;

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
    EXPECT_EQ(via_again["devices"][0]["token_prefix"], sorted[1000].substr(0, 8));
}

TEST(ModuleListing, LimitPagesAndBadLimitsOrCursorsAre400) {
    NginxFixture nginx(NginxOptions{.start = false});
    auto five = tokens(5, 2);
    seed_store(nginx, "g", five);
    seed_store(nginx, "h", tokens(3, 3));
    nginx.start();
    std::sort(five.begin(), five.end());

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
    for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(seen[i], five[i].substr(0, 8));
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
    std::sort(three.begin(), three.end());
    const auto on = json_of(nginx.request("GET", "/v1/groups/g/devices"));  // inherits http's on
    ASSERT_EQ(on["devices"].size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(on["devices"][i]["token"], three[i]);
        EXPECT_FALSE(on["devices"][i].contains("token_prefix"));
    }
    const auto r = nginx.request("GET", "/v2/groups/g/devices");  // its own off
    ASSERT_TRUE(answers(r, 200));
    for (const auto& t : three) EXPECT_FALSE(contains_token(r.body, t));
    EXPECT_EQ(json_of(r)["devices"][0]["token_prefix"], three[0].substr(0, 8));
}

}  // namespace
}  // namespace pushsync::test
