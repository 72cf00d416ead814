// SPDX-License-Identifier: BSD-2-Clause
// The store side of moving groups between shards: exporting selected groups, merging an import
// into devices already there, removing the groups that left, and the hot backup's folder rules.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <sstream>

#include "tests/shared/store/store_test_support.hpp"

namespace pushsync::test {
namespace {

constexpr std::int64_t t0 = 1'764'147'600'000;  // whole seconds: the JSON lines keep seconds only

TEST(StoreMoving, ExportsOnlyTheSelectedGroups) {
    TempDir dir;
    Store store(store_options(dir / "s"));
    for (int n = 0; n < 30; ++n) store.register_device(registration(token_of(n), "group-" + std::to_string(n % 3)), t0);
    std::ostringstream out;
    EXPECT_EQ(store.export_jsonl(out, [](std::string_view g) { return g == "group-1"; }), 10u);
    std::istringstream lines(out.str());
    std::string line;
    while (std::getline(lines, line)) EXPECT_EQ(device_from_json(line).group, "group-1");
}

TEST(StoreMoving, MergeKeepsTheEarlierRegistrationAndTheNewerRecord) {
    TempDir dir;
    Store source(store_options(dir / "source"));
    Store target(store_options(dir / "target"));
    // On the source: registered at t0, last seen at t0+10s (app 1.0).
    source.register_device(registration(token_of(1), "g", "com.example.app", Environment::production, "1.0"), t0);
    source.register_device(registration(token_of(1), "g", "com.example.app", Environment::production, "1.0"), t0 + 10'000);
    // The mirror registered it on the target a moment later, refreshed later still (app 2.0).
    target.register_device(registration(token_of(1), "g", "com.example.app", Environment::production, "2.0"), t0 + 5'000);
    target.register_device(registration(token_of(1), "g", "com.example.app", Environment::production, "2.0"), t0 + 20'000);
    // A device only the source has.
    source.register_device(registration(token_of(2), "g"), t0);

    std::stringstream copied;
    source.export_jsonl(copied);
    EXPECT_EQ(target.import_jsonl(copied, Store::ImportMode::merge), 2u);
    const Device merged = *target.get_device(token_of(1));
    EXPECT_EQ(merged.registered_at_ms, t0);
    EXPECT_EQ(merged.last_seen_ms, t0 + 20'000);
    EXPECT_EQ(merged.app_version, "2.0");
    EXPECT_EQ(target.get_device(token_of(2))->registered_at_ms, t0);
    EXPECT_TRUE(target.check().empty());

    // replace (the default) takes the file's record as it is.
    std::stringstream again;
    source.export_jsonl(again);
    target.import_jsonl(again);
    EXPECT_EQ(target.get_device(token_of(1))->last_seen_ms, t0 + 10'000);
}

TEST(StoreMoving, DeliveryStateMovesWithTheDeviceAndMerges) {
    TempDir dir;
    Store source(store_options(dir / "source"));
    Store target(store_options(dir / "target"));
    source.register_device(registration(token_of(1), "g"), t0);
    const std::vector<std::pair<std::string, std::string>> sent = {{token_of(1), "T-2"}};
    const PushOutcome ok{token_of(1), LastPush{t0 + 1'000, "T-2", 200, "", "apns-1"}, PushOutcome::Count::sent};
    source.record_delivery(sent, std::span(&ok, 1), {});
    source.record_delivery(sent, std::span(&ok, 1), {});

    std::stringstream lines;
    EXPECT_EQ(source.export_jsonl(lines, {}, true), 1u);
    const std::string exported = lines.str();
    EXPECT_NE(exported.find(R"("delivery":{)"), std::string::npos) << exported;
    EXPECT_EQ(target.import_jsonl(lines, Store::ImportMode::merge), 1u);
    EXPECT_EQ(target.device_stats(token_of(1)), source.device_stats(token_of(1)));
    EXPECT_EQ(target.device_stats(token_of(1)).sent, 2u);
    EXPECT_EQ(target.last_sent_tail(token_of(1)), "T-2");

    // Later the target pushed once more; merging the source's older state again loses nothing.
    const std::vector<std::pair<std::string, std::string>> newer = {{token_of(1), "T-3"}};
    const PushOutcome later{token_of(1), LastPush{t0 + 5'000, "T-3", 200, "", "apns-2"}, PushOutcome::Count::sent};
    target.record_delivery(newer, std::span(&later, 1), {});
    std::istringstream again(exported);
    target.import_jsonl(again, Store::ImportMode::merge);
    EXPECT_EQ(target.device_stats(token_of(1)).sent, 3u);
    EXPECT_EQ(target.device_stats(token_of(1)).last_push->tail, "T-3");
    EXPECT_EQ(target.last_sent_tail(token_of(1)), "T-3");

    // A bad delivery field names its line and imports nothing.
    std::istringstream bad(R"({"token":")" + token_of(9) +
                           R"(","group":"g","bundle_id":"com.example.app","environment":"production",)"
                           R"("registered_at":"2026-11-26T09:00:00Z","last_seen":"2026-11-26T09:00:00Z",)"
                           R"("delivery":{"sent":-1,"failed":0}})" "\n");
    try {
        target.import_jsonl(bad);
        ADD_FAILURE() << "accepted a negative count";
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()), "line 1: delivery: sent must be a whole number");
    }
    EXPECT_FALSE(target.get_device(token_of(9)));
}

TEST(StoreMoving, RemoveGroupsTakesEveryDeviceOfTheSelectedGroupsOnly) {
    TempDir dir;
    Store store(store_options(dir / "s"));
    for (int n = 0; n < 40; ++n) store.register_device(registration(token_of(n), "group-" + std::to_string(n % 4)), t0);
    const auto [groups, devices] = store.remove_groups([](std::string_view g) { return g == "group-0" || g == "group-3"; });
    EXPECT_EQ(groups, 2u);
    EXPECT_EQ(devices, 20u);
    EXPECT_EQ(store.stats().devices, 20u);
    EXPECT_EQ(store.group_info("group-0", "").devices, 0u);
    EXPECT_EQ(store.group_info("group-1", "").devices, 10u);
    EXPECT_TRUE(store.check().empty());
}

TEST(StoreMoving, BackupMakesItsFolderWithExplicitModesAndRefusesAUsedOne) {
    TempDir dir;
    Store store(store_options(dir / "s"));
    store.register_device(registration(token_of(1), "g"), t0);
    const auto target = dir / "backup";
    const mode_t old_umask = ::umask(0);  // as nginx's daemon runs: modes must not come from it
    store.backup(target.string());
    ::umask(old_umask);
    struct stat st {};
    ASSERT_EQ(::stat(target.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0770u);
    ASSERT_EQ(::stat((target / "data.mdb").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0660u);
    EXPECT_THROW(store.backup(target.string()), StoreError);
    write_file(dir / "file", "x");
    EXPECT_THROW(store.backup((dir / "file").string()), StoreError);

    StoreOptions copy_options = store_options(target);
    copy_options.read_only = true;
    const Store copy(copy_options);
    EXPECT_EQ(copy.get_device(token_of(1))->group, "g");
    EXPECT_TRUE(copy.check().empty());
}

}  // namespace
}  // namespace pushsync::test
