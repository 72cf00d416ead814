// SPDX-License-Identifier: BSD-2-Clause
// The sender's outbox (notifies kept until their pushes finish) and the per-device sent tails.
#include <gtest/gtest.h>

#include "tests/shared/store/store_test_support.hpp"

namespace pushsync::test {
namespace {

TEST(StoreOutbox, PutLoadRemoveInIdOrderAcrossReopen) {
    TempDir dir;
    {
        Store store(store_options(dir / "store"));
        std::vector<OutboxEntry> entries{
            {300, "g3", "T-3", "", 3'000},
            {5, "g1", "T-1", token_of(1), 1'000},
            {256, "g2", "T-2", "", 2'000},  // 256 and 5 differ in byte order from numeric order when little-endian
        };
        store.outbox_put(entries);
        // An id already there keeps what it had: the queue may hand an entry over twice.
        store.outbox_put(std::vector<OutboxEntry>{{5, "other", "T-9", "", 9'000}});
        EXPECT_EQ(store.stats().outbox, 3u);
    }
    Store store(store_options(dir / "store"));
    auto loaded = store.outbox_load(0);
    ASSERT_EQ(loaded.size(), 3u);
    EXPECT_EQ(loaded[0].id, 5u);
    EXPECT_EQ(loaded[0].group, "g1");
    EXPECT_EQ(loaded[0].tail, "T-1");
    EXPECT_EQ(loaded[0].origin, token_of(1));
    EXPECT_EQ(loaded[0].enqueued_ms, 1'000);
    EXPECT_EQ(loaded[1].id, 256u);
    EXPECT_EQ(loaded[2].id, 300u);
    EXPECT_EQ(loaded[2].origin, "");
    EXPECT_EQ(store.outbox_load(2).size(), 2u);

    store.outbox_remove(std::vector<std::uint64_t>{5, 300, 12345});
    loaded = store.outbox_load(0);
    ASSERT_EQ(loaded.size(), 1u);
    EXPECT_EQ(loaded[0].id, 256u);
    EXPECT_TRUE(store.check().empty());
}

TEST(StoreOutbox, ARangeLoadsTheIdsFromItsStartBelowItsEndInOrderUpToItsLimit) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    std::vector<OutboxEntry> entries;
    for (std::uint64_t id : {3, 5, 256, 300, 301, 70000}) entries.push_back({id, "g", "T-" + std::to_string(id), "", 1});
    store.outbox_put(entries);
    auto ids = [](const std::vector<OutboxEntry>& loaded) {
        std::vector<std::uint64_t> out;
        for (const auto& e : loaded) out.push_back(e.id);
        return out;
    };
    EXPECT_EQ(ids(store.outbox_load_range(4, 301, 100)), (std::vector<std::uint64_t>{5, 256, 300}));
    EXPECT_EQ(ids(store.outbox_load_range(5, 70001, 2)), (std::vector<std::uint64_t>{5, 256}));
    EXPECT_EQ(ids(store.outbox_load_range(301, 70000, 100)), (std::vector<std::uint64_t>{301}));
    EXPECT_TRUE(store.outbox_load_range(302, 70000, 100).empty());
    EXPECT_TRUE(store.outbox_load_range(300, 300, 100).empty());
    EXPECT_TRUE(store.outbox_load_range(0, 100, 0).empty());
    EXPECT_EQ(store.outbox_load_range(256, 257, 1).front().tail, "T-256");
    EXPECT_EQ(store.outbox_load(0).size(), 6u);
}

TEST(StoreOutbox, RecordSentAndLastSentTail) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    store.register_device(registration(token_of(1), "g1"), 1'000);
    EXPECT_EQ(store.last_sent_tail(token_of(1)), std::nullopt);
    store.record_sent(std::vector<std::pair<std::string, std::string>>{{token_of(1), "T-1"}, {token_of(2), "T-1"}});
    EXPECT_EQ(store.last_sent_tail(token_of(1)), "T-1");
    store.record_sent(std::vector<std::pair<std::string, std::string>>{{token_of(1), "T-2"}});
    EXPECT_EQ(store.last_sent_tail(token_of(1)), "T-2");
    EXPECT_EQ(store.last_sent_tail(token_of(2)), "T-1");
    // Unregistering forgets it: a device that registers again gets the next push.
    EXPECT_TRUE(store.unregister_device("g1", token_of(1)));
    EXPECT_EQ(store.last_sent_tail(token_of(1)), std::nullopt);
}

TEST(StoreOutbox, WereSentAnswersEachTokenAgainstItsOwnTail) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    store.record_sent(std::vector<std::pair<std::string, std::string>>{{token_of(1), "T-1"}, {token_of(2), "T-2"}});
    const std::string t1 = token_of(1), t2 = token_of(2), t3 = token_of(3);
    const std::vector<std::pair<std::string_view, std::string_view>> asked{
        {t1, "T-1"}, {t2, "T-1"}, {t3, "T-1"}, {t2, "T-2"}};
    EXPECT_EQ(store.were_sent(asked), (std::vector<bool>{true, false, false, true}));
    EXPECT_TRUE(store.were_sent({}).empty());
}

}  // namespace
}  // namespace pushsync::test
