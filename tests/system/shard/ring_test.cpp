// SPDX-License-Identifier: BSD-2-Clause
// The ring file's parsing, and nginx's chash arithmetic on known values. That the ring agrees
// with a real nginx is shown in routing_test.cpp.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

#include "shared/shard_ring.hpp"

namespace pushsync {
namespace {

RingServer server(const char* name, unsigned weight = 1, bool down = false) {
    return RingServer{name, weight, down};
}

TEST(ShardRing, Crc32IsZlibs) {
    EXPECT_EQ(crc32(""), 0u);
    EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
}

TEST(ShardRing, ParsesServerLinesAndSkipsOtherStatements) {
    const auto servers = parse_ring_servers(
        "# shards\nserver 10.0.0.5:8080 max_fails=0;  # a\nkeepalive 8;\nserver 10.0.0.6:8080\n  weight=3 down;\n"
        "server unix:/run/shard.sock;\n",
        "shards.conf");
    ASSERT_EQ(servers.size(), 3u);
    EXPECT_EQ(servers[0].name, "10.0.0.5:8080");
    EXPECT_EQ(servers[0].weight, 1u);
    EXPECT_FALSE(servers[0].down);
    EXPECT_EQ(servers[1].name, "10.0.0.6:8080");
    EXPECT_EQ(servers[1].weight, 3u);
    EXPECT_TRUE(servers[1].down);
    EXPECT_EQ(servers[2].name, "unix:/run/shard.sock");
}

TEST(ShardRing, BadLinesNameFileAndLine) {
    auto message = [](const std::string& text) {
        try {
            parse_ring_servers(text, "shards.conf");
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(message("server a:1;\nserver b:2 weight=0;\n"), "shards.conf:2: server b:2: invalid weight \"0\"");
    EXPECT_EQ(message("server a:1;\n\nserver b:2 backup;\n"),
              "shards.conf:3: server b:2: \"backup\" cannot be used with hash (nginx refuses it)");
    EXPECT_EQ(message("server a:1\n"), "shards.conf:1: statement without a closing ';'");
    EXPECT_EQ(message("# nothing\n"), "shards.conf:1: no server statement");
    EXPECT_EQ(message("upstream x {\n"), "shards.conf:1: unexpected '{' (the file holds the lines inside upstream{})");
    EXPECT_THROW(load_ring_file("/nonexistent/shards.conf"), std::invalid_argument);
}

TEST(ShardRing, AddingAServerMovesOnlyKeysToIt) {
    const ShardRing two({server("10.0.0.5:8080"), server("10.0.0.6:8080")});
    const ShardRing three({server("10.0.0.5:8080"), server("10.0.0.6:8080"), server("10.0.0.7:8080")});
    std::map<std::string, int> moved_to;
    for (int i = 0; i < 30000; ++i) {
        const std::string key = "group-" + std::to_string(i);
        const std::string before = two.owner(key)->name;
        const std::string after = three.owner(key)->name;
        if (before != after) ++moved_to[after];
    }
    ASSERT_EQ(moved_to.size(), 1u);
    EXPECT_EQ(moved_to.begin()->first, "10.0.0.7:8080");
    EXPECT_GT(moved_to.begin()->second, 30000 / 5);  // about a third
    EXPECT_LT(moved_to.begin()->second, 30000 / 2);
}

TEST(ShardRing, DownServersKeysGoToTheNextPoint) {
    const ShardRing up({server("10.0.0.5:8080"), server("10.0.0.6:8080")});
    const ShardRing down({server("10.0.0.5:8080"), server("10.0.0.6:8080", 1, true)});
    for (int i = 0; i < 2000; ++i) EXPECT_EQ(down.owner("g" + std::to_string(i))->name, "10.0.0.5:8080");
    const ShardRing all_down({server("10.0.0.5:8080", 1, true)});
    EXPECT_EQ(all_down.owner("g"), nullptr);
    EXPECT_NE(up.owner("g"), nullptr);
}

}  // namespace
}  // namespace pushsync
