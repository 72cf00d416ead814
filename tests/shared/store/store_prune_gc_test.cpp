// APNs-driven pruning (410 against the re-registration time, 400 per environment) and gc.
#include <gtest/gtest.h>

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
