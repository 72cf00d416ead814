// SPDX-License-Identifier: BSD-2-Clause
// Export/import as JSON lines, the consistency check and statistics.
#include <gtest/gtest.h>

#include "shared/store/codec.hpp"
#include "tests/shared/store/store_test_support.hpp"

namespace pushsync::test {
namespace {

void fill(Store& store) {
    std::vector<Registration> batch;
    for (std::uint64_t n = 0; n < 300; ++n) {
        batch.push_back(registration(token_of(n * 7919 % 1000), "group-" + std::to_string(n % 17),
                                     n % 3 == 0 ? "com.example.app" : "com.example.other",
                                     n % 5 == 0 ? Environment::sandbox : Environment::production,
                                     n % 2 == 0 ? "" : "4." + std::to_string(n)));
    }
    store.register_devices(batch, 1'764'147'600'000);
    store.register_devices(std::span(batch).first(10), 1'764'150'000'000);  // some refreshed later
}

TEST(StoreExport, ImportIntoAFreshStoreExportsByteIdentical) {
    TempDir dir;
    Store source(store_options(dir / "source"));
    fill(source);
    std::string exported = export_text(source);
    ASSERT_EQ(std::count(exported.begin(), exported.end(), '\n'), 300);

    Store copy(store_options(dir / "copy"));
    std::istringstream in(exported);
    EXPECT_EQ(copy.import_jsonl(in), 300u);
    EXPECT_EQ(export_text(copy), exported);
    EXPECT_TRUE(copy.check().empty());
    EXPECT_EQ(copy.list_groups(0).size(), source.list_groups(0).size());
    for (const auto& group : source.list_groups(0)) EXPECT_EQ(copy.group_info(group.group, "").devices, group.devices);
    auto a = source.stats();
    auto b = copy.stats();
    EXPECT_EQ(a.devices, b.devices);
    EXPECT_EQ(a.groups, b.groups);
    ASSERT_EQ(a.per_app.size(), b.per_app.size());
}

TEST(StoreExport, ExportIsInTokenOrderOneDeviceObjectPerLine) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    store.register_device(registration(token_of(2), "g1", "com.example.app", Environment::sandbox, "4.1"),
                          1'764'147'600'000);
    store.register_device(registration(token_of(1), "g2"), 1'764'147'601'000);
    EXPECT_EQ(export_text(store),
              device_to_json(*store.get_device(token_of(1))) + "\n" + device_to_json(*store.get_device(token_of(2))) +
                  "\n");
}

TEST(StoreImport, ABadLineNamesItsNumberAndImportsNothing) {
    TempDir dir;
    Store source(store_options(dir / "source"));
    fill(source);
    std::string exported = export_text(source);
    auto third_line_end = exported.find('\n', exported.find('\n', exported.find('\n') + 1) + 1);
    std::string broken = exported.substr(0, third_line_end) + "\n{\"token\": \"xyz\"}\n" + exported.substr(third_line_end + 1);

    Store target(store_options(dir / "target"));
    target.register_device(registration(token_of(5000), "kept"), 1'000);
    std::string before = export_text(target);
    std::istringstream in(broken);
    try {
        target.import_jsonl(in);
        FAIL() << "import of a bad line succeeded";
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()).rfind("line 4: ", 0), 0u) << e.what();
    }
    EXPECT_EQ(export_text(target), before);
    EXPECT_TRUE(target.check().empty());
}

TEST(StoreImport, AnImportedDeviceMovesBetweenGroups) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    store.register_device(registration(token_of(1), "old"), 1'764'147'600'000);
    store.register_device(registration(token_of(2), "old"), 1'764'147'600'000);
    Device moved = *store.get_device(token_of(1));
    moved.group = "new";
    std::istringstream in("\n" + device_to_json(moved) + "\n\n");
    EXPECT_EQ(store.import_jsonl(in), 1u);
    EXPECT_EQ(store.group_info("old", "").devices, 1u);
    EXPECT_EQ(store.group_info("new", "").devices, 1u);
    EXPECT_EQ(store.get_device(token_of(1))->group, "new");
    EXPECT_TRUE(store.check().empty());
}

TEST(StoreCheck, FindsRecordsWithoutIndexAndIndexWithoutRecords) {
    TempDir dir;
    {
        Store store(store_options(dir / "store"));
        store.register_device(registration(token_of(1), "g1"), 1'000);
    }
    // A record nobody indexed, an index entry without a record, a record that does not decode.
    Device orphan{token_of(2), "g9", "com.example.app", Environment::production, "", 1'000, 1'000};
    raw_put(dir / "store", "devices", orphan.token, store_codec::encode_device(orphan));
    raw_put(dir / "store", "groups", store_codec::group_key("g1", token_of(3)), "");
    raw_put(dir / "store", "devices", token_of(4), "garbage");

    Store store(store_options(dir / "store"));
    auto problems = store.check();
    // The fifth: the raw record is not in the kept device count of its app.
    ASSERT_EQ(problems.size(), 5u) << ::testing::PrintToString(problems);
    auto mentions = [&](const std::string& a, const std::string& b) {
        return std::any_of(problems.begin(), problems.end(), [&](const std::string& line) {
            return line.find(a) != std::string::npos && line.find(b) != std::string::npos;
        });
    };
    EXPECT_TRUE(mentions(token_of(2), "not in the index"));
    EXPECT_TRUE(mentions(token_of(3), "no device record"));
    EXPECT_TRUE(mentions(token_of(4), "unknown record format"));
    EXPECT_TRUE(mentions("group g1", "count says 1, index holds 2"));
    EXPECT_TRUE(mentions("devices of com.example.app/production", "count says 1, records hold 2"));

    try {
        store.get_device(token_of(4));
        FAIL() << "a garbage record decoded";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.code(), StoreErrc::corrupt);
    }
    // The fan-out goes on past the index entry whose record is missing.
    EXPECT_EQ(store.list_group("g1").size(), 1u);
    // Removing the group takes its stray index entry too; the other problems stay reported.
    EXPECT_EQ(store.remove_group("g1"), 1u);
    EXPECT_EQ(store.check().size(), 3u) << ::testing::PrintToString(store.check());
}

TEST(StoreStats, CountsDevicesGroupsAppsAndTheMap) {
    TempDir dir;
    Store store(store_options(dir / "store", 8ull << 20));
    store.register_device(registration(token_of(1), "g1", "com.b", Environment::sandbox), 1'000);
    store.register_device(registration(token_of(2), "g1", "com.b", Environment::production), 1'000);
    store.register_device(registration(token_of(3), "g2", "com.a", Environment::production), 1'000);
    store.register_device(registration(token_of(4), "g3", "com.b", Environment::production), 1'000);
    auto stats = store.stats();
    EXPECT_EQ(stats.devices, 4u);
    EXPECT_EQ(stats.groups, 3u);
    ASSERT_EQ(stats.per_app.size(), 3u);
    EXPECT_EQ(stats.per_app[0].bundle_id, "com.a");
    EXPECT_EQ(stats.per_app[1].bundle_id, "com.b");
    EXPECT_EQ(stats.per_app[1].environment, Environment::production);
    EXPECT_EQ(stats.per_app[1].devices, 2u);
    EXPECT_EQ(stats.per_app[2].environment, Environment::sandbox);
    EXPECT_EQ(stats.map_size, 8ull << 20);
    EXPECT_GT(stats.map_used, 0u);
    EXPECT_LT(stats.map_used, stats.map_size);
    EXPECT_EQ(stats.outbox, 0u);
}

}  // namespace
}  // namespace pushsync::test
