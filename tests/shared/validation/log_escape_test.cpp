// SPDX-License-Identifier: BSD-2-Clause
// Values from outside in log lines: one field, one line, no terminal escapes, whatever they hold.
#include <gtest/gtest.h>

#include <string>

#include "shared/log_escape.hpp"

namespace pushsync {
namespace {

TEST(LogEscape, ValidIdentifiersStayAsTheyAre) {
    EXPECT_EQ(log_value("team-42.a_b~c"), "team-42.a_b~c");
    EXPECT_EQ(log_value("a:b+c/d=e~f.g_h"), "a:b+c/d=e~f.g_h");
    EXPECT_EQ(log_value("0123abcdef"), "0123abcdef");
}

TEST(LogEscape, AValueCannotBreakTheLineOrForgeAField) {
    EXPECT_EQ(log_value("x\n2026-01-01T00:00:00Z error forged"),
              R"("x\x0a2026-01-01T00:00:00Z error forged")");
    EXPECT_EQ(log_value("g token=deadbeef"), R"("g token=deadbeef")");
    EXPECT_EQ(log_value(R"(a"b\c)"), R"("a\x22b\x5cc")");
    EXPECT_EQ(log_value(std::string("\x1b[31mred\r\x7f", 10)), R"("\x1b[31mred\x0d\x7f")");
    EXPECT_EQ(log_value("\xc3\xa9"), R"("\xc3\xa9")");
    EXPECT_EQ(log_value(std::string("a\0b", 3)), R"("a\x00b")");
    EXPECT_EQ(log_value(""), R"("")");
}

TEST(LogEscape, InsideQuotesSpacesStay) { EXPECT_EQ(log_escape("bad \"x\"\n"), R"(bad \x22x\x22\x0a)"); }

TEST(LogEscape, IntoAFixedBufferNeverOverrunsAndMarksACut) {
    char buf[64];
    std::string value(200, '\n');
    for (std::size_t cap = 0; cap <= sizeof buf; ++cap) {
        const std::size_t n = log_value_into(buf, cap, value);
        ASSERT_LE(n, cap);
        if (n == 0) continue;
        const std::string got(buf, n);
        EXPECT_EQ(got.front(), '"');
        EXPECT_EQ(got.substr(got.size() - 4), "...\"") << got;
        EXPECT_EQ(got.find('\n'), std::string::npos);
    }
    const std::size_t n = log_value_into(buf, sizeof buf, "group-1");
    EXPECT_EQ(std::string(buf, n), "group-1");
    const std::size_t q = log_value_into(buf, sizeof buf, "a b");
    EXPECT_EQ(std::string(buf, q), "\"a b\"");
}

}  // namespace
}  // namespace pushsync
