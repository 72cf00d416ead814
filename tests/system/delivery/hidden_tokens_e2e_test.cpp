// SPDX-License-Identifier: BSD-2-Clause
// The hidden-token check over a whole stack's run: every path a token takes through pushsync
// (register, move, re-register in capitals or %-escaped, delete, notify with origin, a 410 prune,
// a rate-limited request, an admin search, `pushsyncctl gc`) and no log it wrote names a full token.
#include <gtest/gtest.h>

#include "tests/system/delivery/e2e.hpp"

namespace pushsync::sender::e2e {
namespace {

std::string upper(std::string text) {
    for (char& c : text) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return text;
}

std::string percent_escaped(const std::string& text) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) out += std::string{'%', hex[c >> 4], hex[c & 15]};
    return out;
}

TEST(HiddenTokens, TheCheckNamesTheFileAndLineOfAFullTokenPlainOrEscapedAndIgnoresItsPrefix) {
    const std::string t = token(7, 'c');
    const auto found = full_tokens_in_text(
        {t}, "some.log", "first " + t.substr(0, 8) + "...\nsecond " + upper(t) + "\nthird " + percent_escaped(t) + "\n");
    ASSERT_EQ(found.size(), 2u) << describe(found);
    EXPECT_EQ(found[0].file, "some.log");
    EXPECT_EQ(found[0].line, 2u);
    EXPECT_EQ(found[1].line, 3u);
    EXPECT_EQ(describe({found[0]}), "some.log:2: full token in: second " + upper(t) + "\n");
}

TEST(HiddenTokens, NoLogOfAWholeStackRunNamesAFullToken) {
    Stack::Options o;
    o.nginx_server_extra =
        "location /pushsync/admin/ { pushsync_admin; }\n"
        "location /limited/ { pushsync_api; limit_req zone=pushsync_one; limit_req_status 429; }\n";
    o.nginx_http_extra = "limit_req_zone $binary_remote_addr zone=pushsync_one:1m rate=1r/m;\n";
    Stack s(o);
    const std::string member = token(1), other = token(2), mover = token(3), removed = token(4), gone = token(5);
    const std::string capitals = token(6, 'b'), escaped = token(8, 'd'), limited = token(9, 'e');
    for (const auto& t : {member, other, removed, gone}) s.register_device("family-1", t);
    s.register_device("family-1", mover);
    s.register_device("family-2", mover);  // a move: nginx logs moved_from
    s.register_device("family-1", upper(capitals));
    s.tokens.insert(escaped);
    const auto put = s.nginx.request("PUT", "/v1/groups/family-1/devices/" + percent_escaped(escaped),
                                     R"({"bundle_id":"com.example.app"})");
    EXPECT_EQ(put.status, 201) << put.body;
    const auto del = s.nginx.request("DELETE", "/v1/groups/family-1/devices/" + removed);
    EXPECT_EQ(del.status, 204) << del.body;
    // A refused registration (an app the config does not know).
    s.tokens.insert(token(10, 'f'));
    EXPECT_EQ(s.nginx.request("PUT", "/v1/groups/family-1/devices/" + token(10, 'f'), R"({"bundle_id":"com.nope"})").status,
              422);
    // The second request within the minute is refused by limit_req, which logs an error line.
    s.tokens.insert(limited);
    s.nginx.request("DELETE", "/limited/groups/family-1/devices/" + limited);
    EXPECT_EQ(s.nginx.request("DELETE", "/limited/groups/family-1/devices/" + limited).status, 429);
    EXPECT_EQ(s.nginx.request("GET", "/pushsync/admin/devices?token=" + member + "&after=" + other).status, 200);

    s.sim.mark_unregistered(gone, now_unix_ms() + 60000);
    s.notify("family-1", "T-1", member);
    ASSERT_TRUE(s.wait_outbox_empty());
    ASSERT_EQ(s.requests_for(gone).size(), 1u);
    EXPECT_EQ(s.requests_for(gone)[0]["status"], 410);
    EXPECT_EQ(s.counter(Counter::tokens_pruned), 1u);

    auto gc = s.ctl({"gc", "--older-than", "0", "--dry-run"});
    EXPECT_EQ(gc.exit_code, 0) << gc.err;
    EXPECT_NE(gc.out.find(member.substr(0, 8)), std::string::npos) << gc.out;
    gc = s.ctl({"gc", "--older-than", "0", "--json"});
    EXPECT_EQ(gc.exit_code, 0) << gc.err;
    EXPECT_EQ(nlohmann::json::parse(gc.out)["removed"], 5) << gc.out;

    // The check sees what it looks for: the requests above are in the logs, by prefix.
    EXPECT_NE(read_file(s.nginx.prefix() / "logs/access.log").find("/devices/" + member.substr(0, 8)), std::string::npos);
    EXPECT_EQ(s.full_tokens_in_logs(), "");
}

}  // namespace
}  // namespace pushsync::sender::e2e
