// Opening the environment: a full map, a newer schema, the map size of an existing store,
// read-only opening, and sync: interval.
#include <gtest/gtest.h>

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
