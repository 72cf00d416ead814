// SPDX-License-Identifier: BSD-2-Clause
// The listing's query and cursor, nginx-free.
#include <gtest/gtest.h>

#include "ngx_module/api/cursor.hpp"
#include "ngx_module/api/list.hpp"

using namespace pushsync::api;

TEST(ApiCursor, OpensOnlyWhatItSealedForThatGroupAndKey) {
    const CursorKey key = random_cursor_key();
    const std::string token = "00112233445566778899aabbccddeeff";
    const std::string cursor = seal_cursor(key, "g", token);
    EXPECT_EQ(open_cursor(key, "g", cursor), token);
    EXPECT_NE(seal_cursor(key, "g", token), cursor);  // a fresh nonce each time
    EXPECT_EQ(open_cursor(key, "h", cursor), std::nullopt);
    EXPECT_EQ(open_cursor(random_cursor_key(), "g", cursor), std::nullopt);
    for (std::size_t i = 0; i < cursor.size(); i += 7) {
        std::string tampered = cursor;
        tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
        EXPECT_EQ(open_cursor(key, "g", tampered), std::nullopt) << i;
    }
    EXPECT_EQ(open_cursor(key, "g", ""), std::nullopt);
    EXPECT_EQ(open_cursor(key, "g", cursor + "A"), std::nullopt);
    EXPECT_EQ(open_cursor(key, "g", "not base64!"), std::nullopt);
}

TEST(ApiCursor, LengthSaysNothingAboutTheToken) {
    const CursorKey key = random_cursor_key();
    const std::string shortest(16, 'a');
    const std::string longest(200, 'f');
    EXPECT_EQ(seal_cursor(key, "g", shortest).size(), seal_cursor(key, "g", longest).size());
    EXPECT_EQ(open_cursor(key, "g", seal_cursor(key, "g", longest)), longest);
}

TEST(ApiList, QueryLimitsAndCursor) {
    const auto ok = std::get<ListQuery>(parse_list_query(""));
    EXPECT_EQ(ok.limit, 1000u);
    EXPECT_EQ(ok.cursor, "");
    const auto both = std::get<ListQuery>(parse_list_query("x=1&limit=7&cursor=abc"));
    EXPECT_EQ(both.limit, 7u);
    EXPECT_EQ(both.cursor, "abc");
    for (const char* bad : {"limit=0", "limit=1001", "limit=", "limit", "limit=+5", "limit=5&limit=5", "cursor=",
                            "cursor=a&cursor=b", "limit=10000"}) {
        const auto parsed = parse_list_query(bad);
        ASSERT_TRUE(std::holds_alternative<ApiError>(parsed)) << bad;
        EXPECT_EQ(std::get<ApiError>(parsed).code, "invalid_field") << bad;
        EXPECT_EQ(std::get<ApiError>(parsed).status, 400) << bad;
    }
}
