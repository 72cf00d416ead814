// SPDX-License-Identifier: BSD-2-Clause
// $pushsync_log_uri's cutting (ngx_module/api/log_uri): every token a request line carries is cut
// to its first 8 characters, whatever its platform and however the path is spelled; nothing else
// in the line changes.
#include "ngx_module/api/log_uri.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pushsync::api {
namespace {

const std::string apns = "3f9a1c2b" + std::string(56, 'e');
// FCM registration tokens: 32 to 1024 of A-Za-z0-9_-: (here 152, with each kind).
const std::string fcm = "dQw4w9Wg:APA91bH" + std::string(120, 'x') + "_-Zz09:abc-_KkLl";
const std::string webpush = "Ab-_9xYzQwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUiO";  // 43, base64url

TEST(LogUri, CutsAnApnsTokenInAPutOrDeleteOverEitherProtocol) {
    EXPECT_EQ(log_uri("PUT /v1/groups/g-1/devices/" + apns + " HTTP/1.1"), "PUT /v1/groups/g-1/devices/3f9a1c2b... HTTP/1.1");
    EXPECT_EQ(log_uri("DELETE /v1/groups/g-1/devices/" + apns + " HTTP/2.0"),
              "DELETE /v1/groups/g-1/devices/3f9a1c2b... HTTP/2.0");
    EXPECT_EQ(log_uri("PUT /groups/g/devices/" + apns), "PUT /groups/g/devices/3f9a1c2b...");  // HTTP/0.9: no protocol
}

TEST(LogUri, CutsFcmAndWebPushTokensAlike) {
    EXPECT_EQ(webpush.size(), 43u);
    EXPECT_EQ(log_uri("PUT /v1/groups/g/devices/" + fcm + " HTTP/1.1"), "PUT /v1/groups/g/devices/dQw4w9Wg... HTTP/1.1");
    EXPECT_EQ(log_uri("PUT /v1/groups/g/devices/" + webpush + " HTTP/1.1"),
              "PUT /v1/groups/g/devices/Ab-_9xYz... HTTP/1.1");
    const std::string longest = std::string(1024, 'Q');
    EXPECT_EQ(log_uri("PUT /v1/groups/g/devices/" + longest + " HTTP/1.1"), "PUT /v1/groups/g/devices/QQQQQQQQ... HTTP/1.1");
}

TEST(LogUri, KeepsWhatFollowsTheTokenAndAnyLocationPrefix) {
    EXPECT_EQ(log_uri("PUT /api/push/v1/groups/g/devices/" + apns + "/ HTTP/1.1"),
              "PUT /api/push/v1/groups/g/devices/3f9a1c2b.../ HTTP/1.1");
    EXPECT_EQ(log_uri("PUT /v1/groups/g/devices/" + apns + "/extra?limit=5 HTTP/1.1"),
              "PUT /v1/groups/g/devices/3f9a1c2b.../extra?limit=5 HTTP/1.1");
    EXPECT_EQ(log_uri("PUT /v1/groups/groups/devices/" + apns + " HTTP/1.1"),
              "PUT /v1/groups/groups/devices/3f9a1c2b... HTTP/1.1");
}

TEST(LogUri, ReadsThePathAsNginxRoutesIt) {
    // %-escaped token: its prefix is shown decoded.
    std::string escaped;
    for (char c : apns) escaped += "%" + std::to_string(c >= 'a' ? 60 + (c - 'a') + 1 : 30 + (c - '0'));
    EXPECT_EQ(log_uri("PUT /v1/groups/g/devices/" + escaped + " HTTP/1.1"), "PUT /v1/groups/g/devices/3f9a1c2b... HTTP/1.1");
    // %2F separators, doubled slashes, dot segments.
    EXPECT_EQ(log_uri("PUT /v1/groups%2Fg%2fdevices%2F" + apns + " HTTP/1.1"),
              "PUT /v1/groups%2Fg%2fdevices%2F3f9a1c2b... HTTP/1.1");
    EXPECT_EQ(log_uri("PUT /v1//groups//g//devices//" + apns + " HTTP/1.1"),
              "PUT /v1//groups//g//devices//3f9a1c2b... HTTP/1.1");
    EXPECT_EQ(log_uri("PUT /v1/groups/g/./devices/./" + apns + " HTTP/1.1"),
              "PUT /v1/groups/g/./devices/./3f9a1c2b... HTTP/1.1");
    EXPECT_EQ(log_uri("PUT /v1/groups/g/x/../devices/" + apns + " HTTP/1.1"),
              "PUT /v1/groups/g/x/../devices/3f9a1c2b... HTTP/1.1");
    // A segment at the token's place, taken away by "..": cut too, as is the one that replaces it.
    EXPECT_EQ(log_uri("PUT /v1/groups/g/devices/" + apns + "/../" + webpush + " HTTP/1.1"),
              "PUT /v1/groups/g/devices/3f9a1c2b.../../Ab-_9xYz... HTTP/1.1");
    // Characters no token has are shown escaped, so the line stays printable.
    EXPECT_EQ(log_uri("PUT /v1/groups/g/devices/%0A%22ab%20cdefghij HTTP/1.1"),
              "PUT /v1/groups/g/devices/%0A%22ab%20cde... HTTP/1.1");
}

TEST(LogUri, CutsTheAdminPagesTokenParameters) {
    EXPECT_EQ(log_uri("GET /pushsync/admin/devices?token=" + apns + "&after=" + apns + " HTTP/1.1"),
              "GET /pushsync/admin/devices?token=3f9a1c2b...&after=3f9a1c2b... HTTP/1.1");
    EXPECT_EQ(log_uri("GET /pushsync/admin/group?id=g&after=" + apns + " HTTP/1.1"),
              "GET /pushsync/admin/group?id=g&after=3f9a1c2b... HTTP/1.1");
    EXPECT_EQ(log_uri("GET /pushsync/admin/devices?%74oken=" + apns + " HTTP/1.1"),
              "GET /pushsync/admin/devices?%74oken=3f9a1c2b... HTTP/1.1");
    // A prefix of up to 8 is shown as it is.
    EXPECT_EQ(log_uri("GET /pushsync/admin/devices?token=3f9a HTTP/1.1"), "GET /pushsync/admin/devices?token=3f9a HTTP/1.1");
}

TEST(LogUri, LeavesEveryOtherLineAsItIs) {
    for (const std::string& line : {
             std::string("GET /v1/groups/g-1/devices HTTP/1.1"),
             std::string("GET /v1/groups/g-1/devices?limit=10&cursor=") + std::string(80, 'C') + " HTTP/2.0",
             std::string("POST /v1/groups/g-1/notify HTTP/1.1"),
             std::string("GET /v1/groups/g-1/devices/ HTTP/1.1"),
             std::string("GET /v1/devices/") + apns + " HTTP/1.1",      // no groups/{group}/ before it
             std::string("GET /v1/groups/devices/") + apns + " HTTP/1.1",  // no group between
             std::string("GET /v1/groups/g/devices/3f9a1c2b HTTP/1.1"),    // 8: nothing to hide
             std::string("GET /pushsync/status HTTP/1.1"),
             std::string("GET /pushsync/admin/groups?prefix=family HTTP/1.1"),
             std::string("GARBAGE"),
             std::string(""),
             std::string("GET"),
         }) {
        EXPECT_EQ(log_uri(line), line);
    }
}

TEST(LogUri, AVeryLongLineIsCutInOnePassAndKeepsItsLength) {
    // 1 MiB of path before the device path and 100,000 device paths in one query.
    const std::string filler(1 << 20, 'a');
    EXPECT_EQ(log_uri("PUT /" + filler + "/groups/g/devices/" + apns + " HTTP/1.1"),
              "PUT /" + filler + "/groups/g/devices/3f9a1c2b... HTTP/1.1");
    std::string query, expected;
    for (int i = 0; i < 100000; ++i) {
        query += "&token=" + apns;
        expected += "&token=3f9a1c2b...";
    }
    EXPECT_EQ(log_uri("GET /pushsync/admin/devices?x=1" + query + " HTTP/1.1"),
              "GET /pushsync/admin/devices?x=1" + expected + " HTTP/1.1");
    std::string many(200000 * 2, '/');
    for (std::size_t i = 1; i < many.size(); i += 2) many[i] = 'x';
    EXPECT_EQ(log_uri("GET " + many + " HTTP/1.1"), "GET " + many + " HTTP/1.1");
}

}  // namespace
}  // namespace pushsync::api
