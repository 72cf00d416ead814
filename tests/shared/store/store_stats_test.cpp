// SPDX-License-Identifier: BSD-2-Clause
// Delivery statistics in the store: per-device records, the kept device counts per app and
// environment, and the bounded ring of recent events, on real LMDB files.
#include <gtest/gtest.h>

#include "tests/shared/store/store_test_support.hpp"

namespace pushsync::test {
namespace {

constexpr std::int64_t now_ms = 1'790'000'000'000;

std::vector<std::pair<std::string, std::string>> no_tails;

PushOutcome answer(const std::string& token, int status, std::string reason, PushOutcome::Count count,
                   std::string tail = "t1") {
    return PushOutcome{token, LastPush{now_ms, std::move(tail), status, std::move(reason), "apns-" + token.substr(60)},
                       count};
}

StoreEvent event(EventKind kind, std::string reason) {
    return StoreEvent{0, now_ms, kind, "g1", "aaaaaaaa", std::move(reason)};
}

TEST(DeliveryStats, DeviceStatsCountSentAndFailedAndKeepTheLastAnswer) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    const std::string token = token_of(1);
    store.register_device(registration(token, "g1"), now_ms);
    EXPECT_EQ(store.device_stats(token), DeviceStats{});

    std::vector<PushOutcome> outcomes{answer(token, 200, "", PushOutcome::Count::sent),
                                      answer(token, 503, "ServiceUnavailable", PushOutcome::Count::none, "t2")};
    store.record_delivery(no_tails, outcomes, {});
    std::vector<PushOutcome> more{answer(token, 200, "", PushOutcome::Count::sent, "t3"),
                                  answer(token, 400, "BadTopic", PushOutcome::Count::failed, "t4")};
    store.record_delivery(no_tails, more, {});

    const DeviceStats stats = store.device_stats(token);
    EXPECT_EQ(stats.sent, 2u);
    EXPECT_EQ(stats.failed, 1u);
    ASSERT_TRUE(stats.last_push);
    EXPECT_EQ(*stats.last_push, (LastPush{now_ms, "t4", 400, "BadTopic", "apns-0001"}));
    // The batch form reads a page in one transaction, in order; unknown tokens have none.
    std::vector<std::string> tokens{token_of(9), token};
    const auto page = store.device_stats(std::span<const std::string>(tokens));
    ASSERT_EQ(page.size(), 2u);
    EXPECT_EQ(page[0], DeviceStats{});
    EXPECT_EQ(page[1], stats);
}

TEST(DeliveryStats, TailsAndStatisticsGoInTheSameWrite) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    const std::string token = token_of(1);
    store.register_device(registration(token, "g1"), now_ms);
    std::vector<std::pair<std::string, std::string>> tails{{token, "t7"}};
    std::vector<PushOutcome> outcomes{answer(token, 200, "", PushOutcome::Count::sent, "t7")};
    store.record_delivery(tails, outcomes, {});
    EXPECT_EQ(store.last_sent_tail(token), "t7");
    EXPECT_EQ(store.device_stats(token).sent, 1u);
}

TEST(DeliveryStats, RemovedDevicesLoseTheirStatisticsAndAreNotGivenNewOnes) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    const std::string a = token_of(1), b = token_of(2), c = token_of(3);
    for (const auto& t : {a, b, c}) store.register_device(registration(t, "g1"), now_ms);
    std::vector<PushOutcome> outcomes{answer(a, 200, "", PushOutcome::Count::sent),
                                      answer(b, 200, "", PushOutcome::Count::sent),
                                      answer(c, 200, "", PushOutcome::Count::sent)};
    store.record_delivery(no_tails, outcomes, {});

    ASSERT_TRUE(store.unregister_device("g1", a));
    ASSERT_EQ(store.prune_rejected(b, Environment::production), PruneOutcome::removed);
    EXPECT_EQ(store.device_stats(a), DeviceStats{});
    EXPECT_EQ(store.device_stats(b), DeviceStats{});
    EXPECT_EQ(store.device_stats(c).sent, 1u);

    // An answer that arrives after the prune (the writer thread is behind) records nothing.
    std::vector<PushOutcome> late{answer(b, 410, "Unregistered", PushOutcome::Count::failed)};
    store.record_delivery(no_tails, late, {});
    EXPECT_EQ(store.device_stats(b), DeviceStats{});

    EXPECT_EQ(store.remove_group("g1"), 1u);
    EXPECT_EQ(store.device_stats(c), DeviceStats{});
}

TEST(DeliveryStats, ExportLeavesStatisticsOutOfTheDeviceObject) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    const std::string token = token_of(1);
    store.register_device(registration(token, "g1"), now_ms);
    const std::string before = export_text(store);
    std::vector<PushOutcome> outcomes{answer(token, 200, "", PushOutcome::Count::sent)};
    store.record_delivery(no_tails, outcomes, {});
    EXPECT_EQ(export_text(store), before);
}

TEST(DeliveryStats, EventsAreARingPagedNewestFirst) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    std::vector<StoreEvent> batch;
    for (std::size_t i = 0; i < recent_events_kept + 20; ++i) {
        batch.push_back(event(i % 2 ? EventKind::pruned : EventKind::failed, "n" + std::to_string(i)));
        if (batch.size() == 64) {
            store.record_delivery(no_tails, {}, batch);
            batch.clear();
        }
    }
    store.record_delivery(no_tails, {}, batch);

    const auto all = store.recent_events(10'000);
    ASSERT_EQ(all.size(), recent_events_kept);
    EXPECT_EQ(all.front().reason, "n" + std::to_string(recent_events_kept + 19));
    EXPECT_EQ(all.back().reason, "n20");
    EXPECT_EQ(all.front().seq, recent_events_kept + 20);
    EXPECT_EQ(all.front().group, "g1");
    EXPECT_EQ(all.front().token_prefix, "aaaaaaaa");

    const auto first_page = store.recent_events(3);
    ASSERT_EQ(first_page.size(), 3u);
    const auto second_page = store.recent_events(3, first_page.back().seq);
    ASSERT_EQ(second_page.size(), 3u);
    EXPECT_EQ(second_page.front().seq, first_page.back().seq - 1);
    EXPECT_EQ(store.recent_events(5, all.back().seq).size(), 0u);
    EXPECT_EQ(store.recent_events(5, 1'000'000).front().seq, all.front().seq);
}

TEST(DeliveryStats, DeviceCountsFollowEveryRegistrationAndRemoval) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    const std::string a = token_of(1), b = token_of(2), c = token_of(3);
    store.register_device(registration(a, "g1"), now_ms);
    store.register_device(registration(b, "g1"), now_ms);
    store.register_device(registration(c, "g2", "com.example.other", Environment::sandbox), now_ms);
    store.register_device(registration(a, "g2"), now_ms);  // moves, same app: no change
    using C = AppDeviceCount;
    EXPECT_EQ(store.device_counts(), (std::vector<C>{{"com.example.app", Environment::production, 2},
                                                     {"com.example.other", Environment::sandbox, 1}}));
    store.register_device(registration(b, "g1", "com.example.app", Environment::sandbox), now_ms);
    EXPECT_EQ(store.device_counts(), (std::vector<C>{{"com.example.app", Environment::production, 1},
                                                     {"com.example.app", Environment::sandbox, 1},
                                                     {"com.example.other", Environment::sandbox, 1}}));
    store.unregister_device("g2", a);
    store.prune_rejected(c, Environment::sandbox);
    EXPECT_EQ(store.device_counts(), (std::vector<C>{{"com.example.app", Environment::sandbox, 1}}));
    std::istringstream in(export_text(store));
    store.remove_group("g1");
    EXPECT_TRUE(store.device_counts().empty());
    store.import_jsonl(in);
    EXPECT_EQ(store.device_counts(), (std::vector<C>{{"com.example.app", Environment::sandbox, 1}}));
    EXPECT_EQ(store.stats().per_app.size(), 1u);
    EXPECT_TRUE(store.check().empty());
}

TEST(DeliveryStats, AStoreWithoutDeviceCountsGetsThemFromItsDevices) {
    TempDir dir;
    {
        Store store(store_options(dir / "store"));
        for (int i = 0; i < 5; ++i) store.register_device(registration(token_of(i), "g1"), now_ms);
    }
    {  // as a store written before the statistics: no app_counts database
        MDB_env* env = nullptr;
        ASSERT_EQ(mdb_env_create(&env), 0);
        mdb_env_set_maxdbs(env, 16);
        ASSERT_EQ(mdb_env_open(env, (dir / "store").c_str(), 0, 0660), 0);
        MDB_txn* txn = nullptr;
        ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
        MDB_dbi dbi = 0;
        ASSERT_EQ(mdb_dbi_open(txn, "app_counts", 0, &dbi), 0);
        ASSERT_EQ(mdb_drop(txn, dbi, 1), 0);
        ASSERT_EQ(mdb_txn_commit(txn), 0);
        mdb_env_close(env);
    }
    {  // a read-only open goes on without statistics
        StoreOptions options = store_options(dir / "store");
        options.read_only = true;
        Store store(options);
        EXPECT_TRUE(store.device_counts().empty());
        EXPECT_EQ(store.get_device(token_of(1))->group, "g1");
    }
    Store store(store_options(dir / "store"));
    EXPECT_EQ(store.device_counts(),
              (std::vector<AppDeviceCount>{{"com.example.app", Environment::production, 5}}));
}

TEST(DeliveryStats, CheckReportsDeviceCountsThatDisagreeWithTheRecords) {
    TempDir dir;
    { Store(store_options(dir / "store")).register_device(registration(token_of(1), "g1"), now_ms); }
    std::string key = "com.example.app";
    key.push_back('\0');
    key.push_back('\0');
    raw_put(dir / "store", "app_counts", key, std::string("\x07\0\0\0\0\0\0\0", 8));
    Store store(store_options(dir / "store"));
    const auto problems = store.check();
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0], "devices of com.example.app/production: count says 7, records hold 1");
}

}  // namespace
}  // namespace pushsync::test
