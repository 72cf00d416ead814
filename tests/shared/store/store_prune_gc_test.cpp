// SPDX-License-Identifier: BSD-2-Clause
// APNs-driven pruning (410 against the re-registration time, 400 per environment) and gc.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "tests/shared/store/store_test_support.hpp"

namespace pushsync::test {
namespace {

class StorePrune : public ::testing::Test {
protected:
    TempDir dir;
    Store store{store_options(dir / "store")};
};

TEST_F(StorePrune, UnregisteredBeforeTheReRegistrationIsKept) {
    store.register_device(registration(token_of(1), "g1"), 1'000);
    store.register_device(registration(token_of(1), "g1"), 5'000);  // registered again
    // APNs says the token died at 4000, but the device registered since.
    EXPECT_EQ(store.prune_unregistered(token_of(1), Environment::production, 4'000), PruneOutcome::kept_reregistered);
    EXPECT_TRUE(store.get_device(token_of(1)).has_value());
    EXPECT_EQ(store.group_info("g1", "").devices, 1u);
}

TEST_F(StorePrune, UnregisteredAfterTheLastRegistrationIsRemoved) {
    store.register_device(registration(token_of(1), "g1"), 1'000);
    store.register_device(registration(token_of(2), "g1"), 1'000);
    store.record_sent(std::vector<std::pair<std::string, std::string>>{{token_of(1), "T-1"}});
    EXPECT_EQ(store.prune_unregistered(token_of(1), Environment::production, 6'000), PruneOutcome::removed);
    EXPECT_EQ(store.get_device(token_of(1)), std::nullopt);
    EXPECT_EQ(store.last_sent_tail(token_of(1)), std::nullopt);
    EXPECT_EQ(store.group_info("g1", "").devices, 1u);
    // The same millisecond is not "after": the registration did not happen since the 410.
    EXPECT_EQ(store.prune_unregistered(token_of(2), Environment::production, 1'000), PruneOutcome::removed);
    EXPECT_TRUE(store.list_groups(0).empty());
    EXPECT_EQ(store.prune_unregistered(token_of(2), Environment::production, 9'000), PruneOutcome::not_found);
    EXPECT_TRUE(store.check().empty());
}

TEST_F(StorePrune, UnregisteredForTheOtherEnvironmentIsKept) {
    store.register_device(registration(token_of(1), "g1", "com.example.app", Environment::sandbox), 1'000);
    EXPECT_EQ(store.prune_unregistered(token_of(1), Environment::production, 6'000),
              PruneOutcome::kept_other_environment);
    EXPECT_TRUE(store.get_device(token_of(1)).has_value());
}

TEST_F(StorePrune, RejectedOnlyForTheEnvironmentThatRejected) {
    store.register_device(registration(token_of(1), "g1", "com.example.app", Environment::sandbox), 1'000);
    EXPECT_EQ(store.prune_rejected(token_of(1), Environment::production), PruneOutcome::kept_other_environment);
    EXPECT_TRUE(store.get_device(token_of(1)).has_value());
    EXPECT_EQ(store.prune_rejected(token_of(1), Environment::sandbox), PruneOutcome::removed);
    EXPECT_EQ(store.get_device(token_of(1)), std::nullopt);
    EXPECT_EQ(store.prune_rejected(token_of(1), Environment::sandbox), PruneOutcome::not_found);
    EXPECT_TRUE(store.list_groups(0).empty());
    EXPECT_TRUE(store.check().empty());
}

TEST_F(StorePrune, GcRemovesDevicesNotSeenSinceTheCutoff) {
    store.register_device(registration(token_of(1), "g1"), 100);
    store.register_device(registration(token_of(2), "g1"), 200);
    store.register_device(registration(token_of(3), "g2"), 300);
    store.register_device(registration(token_of(4), "g2"), 250);  // exactly at the cutoff: kept

    std::vector<std::string> visited;
    auto remember = [&](const Device& device) { visited.push_back(device.token); };
    EXPECT_EQ(store.gc(250, /*dry_run=*/true, remember), 2u);
    EXPECT_EQ(visited, (std::vector<std::string>{token_of(1), token_of(2)}));
    EXPECT_EQ(store.stats().devices, 4u);  // a dry run changes nothing

    visited.clear();
    EXPECT_EQ(store.gc(250, /*dry_run=*/false, remember), 2u);
    EXPECT_EQ(visited, (std::vector<std::string>{token_of(1), token_of(2)}));
    EXPECT_EQ(store.stats().devices, 2u);
    EXPECT_EQ(store.group_info("g1", "").devices, 0u);
    EXPECT_EQ(store.group_info("g2", "").devices, 2u);
    EXPECT_EQ(store.gc(250, false), 0u);
    EXPECT_TRUE(store.check().empty());
}

// gc in bounded write transactions: 2,500 expired among 2,500 fresh, 1,000 a batch. Between the
// first and second batch an expired device not yet scanned registers again and a new one
// registers: both survive, every other expired device goes, no fresh one does.
TEST_F(StorePrune, GcRemovesExactlyTheExpiredInBatchesAndKeepsARegistrationBetweenThem) {
    std::vector<Registration> batch;
    std::set<std::string> expired;
    for (std::uint64_t n = 0; n < 5000; ++n) {
        batch.push_back(registration(token_of(n), "g" + std::to_string(n % 7)));
        if (n % 2 == 0) expired.insert(token_of(n));
    }
    std::vector<Registration> old_ones, fresh_ones;
    for (auto& r : batch) (expired.count(r.token) ? old_ones : fresh_ones).push_back(r);
    store.register_devices(old_ones, 100);
    store.register_devices(fresh_ones, 1'000);

    const std::string refreshed = token_of(4998);  // expired, and last in token order: scanned last
    const std::string newcomer = token_of(9'999);
    std::vector<std::string> visited;
    std::vector<std::size_t> visited_at_each_batch_end;
    const std::size_t removed = store.gc(
        500, /*dry_run=*/false, [&](const Device& device) { visited.push_back(device.token); }, 1000, [&] {
            visited_at_each_batch_end.push_back(visited.size());
            if (visited_at_each_batch_end.size() == 1) {
                store.register_device(registration(refreshed, "g-moved"), 2'000);
                store.register_device(registration(newcomer, "g1"), 2'000);
            }
        });

    EXPECT_EQ(visited_at_each_batch_end, (std::vector<std::size_t>{1000, 2000}));  // at most 1,000 a transaction
    expired.erase(refreshed);
    EXPECT_EQ(removed, expired.size());
    EXPECT_EQ(std::set<std::string>(visited.begin(), visited.end()), expired);
    EXPECT_TRUE(std::is_sorted(visited.begin(), visited.end()));
    for (const auto& token : expired) EXPECT_EQ(store.get_device(token), std::nullopt) << token;
    for (const auto& r : fresh_ones) EXPECT_TRUE(store.get_device(r.token).has_value()) << r.token;
    ASSERT_TRUE(store.get_device(refreshed).has_value());
    EXPECT_EQ(store.get_device(refreshed)->group, "g-moved");
    EXPECT_TRUE(store.get_device(newcomer).has_value());
    EXPECT_EQ(store.stats().devices, fresh_ones.size() + 2);
    EXPECT_TRUE(store.check().empty());
    EXPECT_EQ(store.gc(500, false), 0u);
}

// A dry run goes through the same batches and changes nothing.
TEST_F(StorePrune, GcDryRunCountsEveryExpiredAcrossBatches) {
    std::vector<Registration> batch;
    for (std::uint64_t n = 0; n < 2500; ++n) batch.push_back(registration(token_of(n), "g1"));
    store.register_devices(batch, 100);
    int batches = 0;
    EXPECT_EQ(store.gc(500, /*dry_run=*/true, {}, 1000, [&] { ++batches; }), 2500u);
    EXPECT_EQ(batches, 2);
    EXPECT_EQ(store.stats().devices, 2500u);
}

TEST_F(StorePrune, RemoveGroupRemovesItsDevicesOnly) {
    for (std::uint64_t n = 1; n <= 5; ++n) store.register_device(registration(token_of(n), "g1"), 1'000);
    store.register_device(registration(token_of(6), "g2"), 1'000);
    EXPECT_EQ(store.remove_group("g1"), 5u);
    EXPECT_EQ(store.remove_group("g1"), 0u);
    EXPECT_EQ(store.stats().devices, 1u);
    EXPECT_EQ(store.list_groups(0).size(), 1u);
    EXPECT_TRUE(store.check().empty());
}

}  // namespace
}  // namespace pushsync::test
