// SPDX-License-Identifier: BSD-2-Clause
// Opening the environment: a full map, a newer schema, the map size of an existing store,
// read-only opening, and sync: interval.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "shared/store/codec.hpp"
#include "tests/shared/store/store_test_support.hpp"

namespace pushsync::test {
namespace {

TEST(StoreOpen, AFullMapIsATypedErrorAndLeavesTheStoreUnchanged) {
    TempDir dir;
    std::string before;
    std::uint64_t next = 0;
    {
        Store store(store_options(dir / "store", 256 * 1024));
        bool full = false;
        for (int round = 0; round < 1000 && !full; ++round) {
            before = export_text(store);
            std::vector<Registration> batch;
            for (int i = 0; i < 50; ++i, ++next) batch.push_back(registration(token_of(next), "g" + std::to_string(next % 7)));
            try {
                store.register_devices(batch, 1'764'147'600'000);
            } catch (const StoreError& e) {
                ASSERT_EQ(e.code(), StoreErrc::full) << e.what();
                full = true;
            }
        }
        ASSERT_TRUE(full) << "the map never filled";
        // Nothing of the failed batch was written, and the store still reads and checks clean.
        EXPECT_EQ(export_text(store), before);
        EXPECT_TRUE(store.check().empty());
        EXPECT_FALSE(store.get_device(token_of(next - 1)).has_value());
        std::size_t counted = 0;
        for (const auto& group : store.list_groups(0)) counted += group.devices;
        EXPECT_EQ(counted, static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n')));
    }
    // The way out is a bigger map_size: the same store reopened takes it and accepts writes again.
    Store store(store_options(dir / "store", 1024 * 1024));
    EXPECT_EQ(export_text(store), before);
    EXPECT_NO_THROW(store.register_device(registration(token_of(next), "g1"), 1'764'147'600'000));
    EXPECT_TRUE(store.check().empty());
}

TEST(StoreOpen, AStoreOfANewerSchemaIsRefusedNamingThePath) {
    TempDir dir;
    { Store store(store_options(dir / "store")); }
    raw_put(dir / "store", "meta", store_codec::schema_version_key, store_codec::encode_u32(store_codec::schema_version + 1));
    for (bool read_only : {false, true}) {
        auto options = store_options(dir / "store");
        options.read_only = read_only;
        try {
            Store store(options);
            FAIL() << "a newer schema was opened";
        } catch (const StoreError& e) {
            EXPECT_EQ(e.code(), StoreErrc::newer_schema);
            EXPECT_NE(std::string(e.what()).find((dir / "store").string()), std::string::npos) << e.what();
        }
    }
}

// Makes the store at `path` look as version 1 code left it: no listing order, no secret, schema 1.
// `keep_order`: only one order entry goes, as if a version 1 writer had registered a device since.
void make_version_1(const std::filesystem::path& path, bool keep_order = false) {
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    ASSERT_EQ(mdb_env_open(env, path.c_str(), 0, 0664), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    MDB_dbi order = 0;
    MDB_dbi meta = 0;
    ASSERT_EQ(mdb_dbi_open(txn, "group_order", 0, &order), 0);
    ASSERT_EQ(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    if (keep_order) {
        MDB_cursor* cursor = nullptr;
        ASSERT_EQ(mdb_cursor_open(txn, order, &cursor), 0);
        MDB_val k{}, v{};
        ASSERT_EQ(mdb_cursor_get(cursor, &k, &v, MDB_FIRST), 0);
        ASSERT_EQ(mdb_cursor_del(cursor, 0), 0);
        mdb_cursor_close(cursor);
    } else {
        ASSERT_EQ(mdb_drop(txn, order, 1), 0);
        MDB_val secret{store_codec::list_secret_key.size(), const_cast<char*>(store_codec::list_secret_key.data())};
        ASSERT_EQ(mdb_del(txn, meta, &secret, nullptr), 0);
        const std::string one = store_codec::encode_u32(1);
        MDB_val k{store_codec::schema_version_key.size(), const_cast<char*>(store_codec::schema_version_key.data())};
        MDB_val v{one.size(), const_cast<char*>(one.data())};
        ASSERT_EQ(mdb_put(txn, meta, &k, &v, 0), 0);
    }
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

std::vector<std::string> listed(const Store& store, const std::string& group) {
    std::vector<std::string> out;
    store.list_page(group, "", 0, [&](const Device& d) { out.push_back(d.token); });
    return out;
}

// Contract 1.2's order lives in the store: a version 1 store gets it (and its secret) in place from
// the first writer, a reader of it goes on by token meanwhile, and the order is the same on every
// open afterwards — and is filled again when a version 1 writer changed the store since.
TEST(StoreOpen, AVersion1StoreGetsItsListingOrderInPlace) {
    TempDir dir;
    std::vector<std::string> tokens;
    {
        Store store(store_options(dir / "store"));
        for (unsigned i = 0; i < 50; ++i) {
            tokens.push_back(token_of(i));
            store.register_device(registration(token_of(i), "g"), 1'764'147'600'000);
        }
    }
    make_version_1(dir / "store");
    auto by_token = tokens;
    std::sort(by_token.begin(), by_token.end());
    {
        auto options = store_options(dir / "store");
        options.read_only = true;
        Store reader(options);
        EXPECT_EQ(listed(reader, "g"), by_token);  // version 1's order, nothing written
    }
    std::vector<std::string> order;
    {
        Store store(store_options(dir / "store"));
        order = listed(store, "g");
        auto sorted = order;
        std::sort(sorted.begin(), sorted.end());
        EXPECT_EQ(sorted, by_token);
        EXPECT_NE(order, by_token);  // 50 tokens in token order by chance: 1 in 50!
        EXPECT_TRUE(store.check().empty());
    }
    {
        auto options = store_options(dir / "store");
        options.read_only = true;
        EXPECT_EQ(listed(Store(options), "g"), order);
    }
    make_version_1(dir / "store", true);  // one order entry missing
    Store store(store_options(dir / "store"));
    EXPECT_EQ(listed(store, "g"), order);
    // Paging after a token that is gone continues where it would have been.
    store.unregister_device("g", order[10]);
    std::vector<std::string> rest;
    store.list_page("g", order[10], 0, [&](const Device& d) { rest.push_back(d.token); });
    EXPECT_EQ(rest, std::vector<std::string>(order.begin() + 11, order.end()));
}

// The raw schema version in a store's meta, without the Store class.
std::uint32_t raw_schema(const std::filesystem::path& path) {
    MDB_env* env = nullptr;
    EXPECT_EQ(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    EXPECT_EQ(mdb_env_open(env, path.c_str(), MDB_RDONLY, 0664), 0);
    MDB_txn* txn = nullptr;
    EXPECT_EQ(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), 0);
    MDB_dbi meta = 0;
    EXPECT_EQ(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    MDB_val k{store_codec::schema_version_key.size(), const_cast<char*>(store_codec::schema_version_key.data())};
    MDB_val v{};
    std::uint32_t version = 0;
    if (mdb_get(txn, meta, &k, &v) == 0) {
        version = store_codec::decode_u32(std::string_view(static_cast<const char*>(v.mv_data), v.mv_size), "schema");
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return version;
}

// tests/shared/store/fixtures/schema-2 is a store that a schema-2 build of this tree (commit
// 0724821) wrote (schema 2, `pushsyncctl import` of schema-2.jsonl beside it): its devices are apns
// devices to this version, a reader leaves it as it is, and the first writer sets schema 3 in
// place without rewriting a record; fcm devices then join its groups.
TEST(StoreOpen, AStoreOfSchema2OpensAsApnsDevicesAndUpgradesInPlace) {
    TempDir dir;
    const std::filesystem::path fixture = std::filesystem::path(PUSHSYNC_SOURCE_DIR) / "tests/shared/store/fixtures/schema-2";
    std::filesystem::create_directories(dir / "store");
    std::filesystem::copy_file(fixture / "data.mdb", dir / "store" / "data.mdb");
    std::filesystem::permissions(dir / "store" / "data.mdb", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    ASSERT_EQ(raw_schema(dir / "store"), 2u);
    std::string exported;
    {
        auto options = store_options(dir / "store");
        options.read_only = true;
        Store reader(options);
        exported = export_text(reader);
        EXPECT_TRUE(reader.check().empty());
    }
    EXPECT_EQ(raw_schema(dir / "store"), 2u);  // a reader writes nothing
    std::ifstream expected_file(fixture / "expected-export.jsonl");
    std::stringstream expected;
    expected << expected_file.rdbuf();
    EXPECT_EQ(exported, expected.str());

    Store store(store_options(dir / "store"));
    EXPECT_EQ(raw_schema(dir / "store"), 3u);
    EXPECT_TRUE(store.check().empty());
    EXPECT_EQ(export_text(store), expected.str());
    const auto first = store.get_device(token_of(1));
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->platform, Platform::apns);

    Registration android = registration("cD3f:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx", first->group);
    android.platform = Platform::fcm;
    store.register_device(android, 1'764'147'600'000);
    const auto stored = store.get_device(android.token);
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->platform, Platform::fcm);
    EXPECT_EQ(stored->token, android.token);
    EXPECT_TRUE(store.check().empty());
    std::vector<std::string> members = listed(store, first->group);
    EXPECT_NE(std::find(members.begin(), members.end(), android.token), members.end());
}

TEST(StoreRecords, AnFcmDeviceKeepsItsPlatformAndItsOwnCount) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    const std::string fcm = "cD3f:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx";
    Registration android = registration(fcm, "g");
    android.platform = Platform::fcm;
    EXPECT_TRUE(store.register_device(android, 1'000).created);
    store.register_device(registration(token_of(1), "g"), 1'000);
    EXPECT_EQ(store.get_device(fcm)->platform, Platform::fcm);
    EXPECT_EQ(store.get_device(token_of(1))->platform, Platform::apns);
    const StoreStats stats = store.stats();
    ASSERT_EQ(stats.per_app.size(), 2u);  // the same bundle_id, once per platform
    EXPECT_EQ(stats.per_app[0].platform, Platform::apns);
    EXPECT_EQ(stats.per_app[0].devices, 1u);
    EXPECT_EQ(stats.per_app[1].platform, Platform::fcm);
    EXPECT_EQ(stats.per_app[1].devices, 1u);
    EXPECT_TRUE(store.check().empty());
    EXPECT_TRUE(store.unregister_device("g", fcm));
    EXPECT_EQ(store.stats().per_app.size(), 1u);
    EXPECT_TRUE(store.check().empty());
}

TEST(StoreOpen, AnExistingBiggerMapKeepsItsSize) {
    TempDir dir;
    { Store store(store_options(dir / "store", 8ull << 20)); }
    {
        Store store(store_options(dir / "store", 1ull << 20));
        EXPECT_EQ(store.stats().map_size, 8ull << 20);
    }
    Store store(store_options(dir / "store", 16ull << 20));
    EXPECT_EQ(store.stats().map_size, 16ull << 20);
}

TEST(StoreOpen, ReadOnlyReadsAnExistingStoreAndRefusesAMissingOne) {
    TempDir dir;
    auto options = store_options(dir / "missing");
    options.read_only = true;
    try {
        Store store(options);
        FAIL() << "opened a store that does not exist";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.code(), StoreErrc::unavailable);
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "missing"));

    Store writer(store_options(dir / "store"));
    writer.register_device(registration(token_of(1), "g1"), 1'000);
    options.path = (dir / "store").string();
    Store reader(options);
    EXPECT_EQ(reader.list_group("g1").size(), 1u);
    // A change by the writer after the reader opened is visible to its next read.
    writer.register_device(registration(token_of(2), "g1"), 1'000);
    EXPECT_EQ(reader.list_group("g1").size(), 2u);
    EXPECT_TRUE(reader.check().empty());
}

TEST(StoreOpen, IntervalSyncKeepsEveryCommitAcrossReopen) {
    TempDir dir;
    auto options = store_options(dir / "store");
    options.sync = SyncMode::interval;
    options.sync_interval_ms = 5;
    {
        Store store(options);
        for (std::uint64_t n = 0; n < 100; ++n) store.register_device(registration(token_of(n), "g1"), 1'000);
        store.sync();
        store.register_device(registration(token_of(100), "g1"), 1'000);
    }  // the destructor flushes what the last interval had not
    Store store(store_options(dir / "store"));
    EXPECT_EQ(store.group_info("g1", "").devices, 101u);
    EXPECT_NO_THROW(store.sync());  // a no-op with sync: always
}

TEST(StoreOpen, OptionsComeFromTheStoreConfig) {
    StoreConfig config{"/var/lib/x", 2ull << 30, SyncMode::interval, 250};
    auto options = StoreOptions::from(config);
    EXPECT_EQ(options.path, "/var/lib/x");
    EXPECT_EQ(options.map_size, 2ull << 30);
    EXPECT_EQ(options.sync, SyncMode::interval);
    EXPECT_EQ(options.sync_interval_ms, 250u);
    EXPECT_FALSE(options.read_only);
}

}  // namespace
}  // namespace pushsync::test
