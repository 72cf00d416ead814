// SPDX-License-Identifier: BSD-2-Clause
// Registrations: create, refresh, move, unregister, list, and the group commit of a mixed batch.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <sstream>
#include <streambuf>
#include <thread>

#include "tests/shared/store/store_test_support.hpp"

namespace pushsync::test {
namespace {

class StoreRegistration : public ::testing::Test {
protected:
    TempDir dir;
    Store store{store_options(dir / "store")};
};

TEST_F(StoreRegistration, CreatesADeviceAndItsGroup) {
    auto result = store.register_device(registration(token_of(1), "g1", "com.example.app", Environment::sandbox, "4.1"),
                                        1'000);
    EXPECT_TRUE(result.created);
    EXPECT_EQ(result.moved_from, "");
    Device expected{token_of(1), "g1", "com.example.app", Environment::sandbox, "4.1", 1'000, 1'000};
    EXPECT_EQ(result.device, expected);
    EXPECT_EQ(store.get_device(token_of(1)), expected);
    EXPECT_EQ(store.list_group("g1"), std::vector<Device>{expected});
    EXPECT_EQ(store.group_info("g1", "").devices, 1u);
    ASSERT_EQ(store.list_groups(0).size(), 1u);
    EXPECT_EQ(store.list_groups(0)[0].group, "g1");
    EXPECT_EQ(store.list_groups(0)[0].devices, 1u);
    EXPECT_EQ(store.get_device(token_of(2)), std::nullopt);
    EXPECT_TRUE(store.check().empty());
}

TEST_F(StoreRegistration, RefreshKeepsRegisteredAtAndReplacesTheRest) {
    store.register_device(registration(token_of(1), "g1", "com.example.app", Environment::production, "1.0"), 1'000);
    auto result = store.register_device(registration(token_of(1), "g1", "com.example.other", Environment::sandbox), 5'000);
    EXPECT_FALSE(result.created);
    EXPECT_EQ(result.moved_from, "");
    Device expected{token_of(1), "g1", "com.example.other", Environment::sandbox, "", 1'000, 5'000};
    EXPECT_EQ(result.device, expected);
    EXPECT_EQ(store.get_device(token_of(1)), expected);
    EXPECT_EQ(store.group_info("g1", "").devices, 1u);
    EXPECT_TRUE(store.check().empty());
}

TEST_F(StoreRegistration, MoveLeavesTheOldGroup) {
    store.register_device(registration(token_of(1), "g1"), 1'000);
    store.register_device(registration(token_of(2), "g1"), 1'000);
    auto result = store.register_device(registration(token_of(1), "g2"), 2'000);
    EXPECT_FALSE(result.created);
    EXPECT_EQ(result.moved_from, "g1");
    EXPECT_EQ(result.device.registered_at_ms, 1'000);
    EXPECT_EQ(result.device.last_seen_ms, 2'000);
    EXPECT_EQ(store.list_group("g1").size(), 1u);
    EXPECT_EQ(store.list_group("g1")[0].token, token_of(2));
    EXPECT_EQ(store.list_group("g2").size(), 1u);
    EXPECT_EQ(store.group_info("g1", token_of(1)).devices, 1u);
    EXPECT_FALSE(store.group_info("g1", token_of(1)).origin_member);
    EXPECT_TRUE(store.group_info("g2", token_of(1)).origin_member);

    // Moving the last device away makes the old group disappear.
    store.register_device(registration(token_of(2), "g2"), 3'000);
    EXPECT_EQ(store.group_info("g1", "").devices, 0u);
    EXPECT_TRUE(store.list_group("g1").empty());
    auto groups = store.list_groups(0);
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(groups[0].group, "g2");
    EXPECT_EQ(groups[0].devices, 2u);
    EXPECT_TRUE(store.check().empty());
}

TEST_F(StoreRegistration, UnregisterOnlyFromItsOwnGroup) {
    store.register_device(registration(token_of(1), "g1"), 1'000);
    store.register_device(registration(token_of(2), "g1"), 1'000);
    EXPECT_FALSE(store.unregister_device("g2", token_of(1)));
    EXPECT_TRUE(store.get_device(token_of(1)).has_value());
    EXPECT_FALSE(store.unregister_device("g1", token_of(3)));

    EXPECT_TRUE(store.unregister_device("g1", token_of(1)));
    EXPECT_EQ(store.get_device(token_of(1)), std::nullopt);
    EXPECT_FALSE(store.unregister_device("g1", token_of(1)));
    EXPECT_EQ(store.group_info("g1", "").devices, 1u);

    std::vector<std::pair<std::string, std::string>> batch{{"g1", token_of(2)}, {"g1", token_of(2)}, {"gx", token_of(9)}};
    EXPECT_EQ(store.unregister_devices(batch), (std::vector<bool>{true, false, false}));
    EXPECT_EQ(store.group_info("g1", "").devices, 0u);
    EXPECT_TRUE(store.list_groups(0).empty());
    EXPECT_TRUE(store.check().empty());
}

TEST_F(StoreRegistration, GroupPagesCoverEveryDeviceOnceInTokenOrder) {
    for (std::uint64_t n : {7, 3, 9, 1, 5}) store.register_device(registration(token_of(n), "a"), 1'000);
    store.register_device(registration(token_of(2), "a.b"), 1'000);  // a neighbouring group's key
    std::vector<std::string> tokens;
    std::vector<std::size_t> page_sizes;
    std::optional<std::string> after = std::string();
    while (after) {
        std::size_t page = 0;
        after = store.for_each_in_group("a", *after, 2, [&](const Device& device) {
            tokens.push_back(device.token);
            ++page;
        });
        page_sizes.push_back(page);
    }
    EXPECT_EQ(tokens, (std::vector<std::string>{token_of(1), token_of(3), token_of(5), token_of(7), token_of(9)}));
    EXPECT_EQ(page_sizes, (std::vector<std::size_t>{2, 2, 1}));
    // A page that ends exactly at the group's end says so at once; after a removed token it goes on.
    EXPECT_EQ(store.for_each_in_group("a", token_of(7), 1, [](const Device&) {}), std::nullopt);
    ASSERT_TRUE(store.unregister_device("a", token_of(3)));
    tokens.clear();
    store.for_each_in_group("a", token_of(3), 0, [&](const Device& device) { tokens.push_back(device.token); });
    EXPECT_EQ(tokens, (std::vector<std::string>{token_of(5), token_of(7), token_of(9)}));
}

TEST_F(StoreRegistration, ListIsInTokenOrderAndOnlyThatGroup) {
    // "a" is a prefix of the other names: the index separator keeps their scans apart.
    for (std::uint64_t n : {7, 3, 9, 1}) store.register_device(registration(token_of(n), "a"), 1'000);
    store.register_device(registration(token_of(2), "a.b"), 1'000);
    store.register_device(registration(token_of(4), "a-"), 1'000);
    store.register_device(registration(token_of(5), "A"), 1'000);
    std::vector<std::string> tokens;
    store.for_each_in_group("a", [&](const Device& device) { tokens.push_back(device.token); });
    EXPECT_EQ(tokens, (std::vector<std::string>{token_of(1), token_of(3), token_of(7), token_of(9)}));
    EXPECT_EQ(store.list_group("a.b").size(), 1u);
    EXPECT_EQ(store.list_group("A").size(), 1u);
    EXPECT_TRUE(store.list_group("b").empty());

    auto groups = store.list_groups(2);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[0].group, "A");
    EXPECT_EQ(groups[1].group, "a");
    EXPECT_EQ(groups[1].devices, 4u);
}

TEST_F(StoreRegistration, GroupCommitOfAMixedBatch) {
    store.register_device(registration(token_of(1), "g1"), 1'000);
    store.register_device(registration(token_of(2), "g1"), 1'000);
    std::vector<Registration> batch{
        registration(token_of(3), "g1"),                        // create
        registration(token_of(1), "g1", "com.example.other"),   // refresh
        registration(token_of(2), "g2"),                        // move
        registration(token_of(3), "g2"),                        // the same token again: moves what the batch created
        registration(token_of(4), "g2"),                        // create
        registration(token_of(4), "g2", "com.example.app", Environment::sandbox),  // and refresh it
    };
    auto results = store.register_devices(batch, 2'000);
    ASSERT_EQ(results.size(), batch.size());
    EXPECT_EQ(results[0].created, true);
    EXPECT_EQ(results[1].created, false);
    EXPECT_EQ(results[1].device.bundle_id, "com.example.other");
    EXPECT_EQ(results[1].device.registered_at_ms, 1'000);
    EXPECT_EQ(results[2].moved_from, "g1");
    EXPECT_EQ(results[3].created, false);
    EXPECT_EQ(results[3].moved_from, "g1");
    EXPECT_EQ(results[3].device.registered_at_ms, 2'000);
    EXPECT_EQ(results[4].created, true);
    EXPECT_EQ(results[5].created, false);
    EXPECT_EQ(results[5].moved_from, "");
    EXPECT_EQ(results[5].device.environment, Environment::sandbox);

    EXPECT_EQ(store.group_info("g1", "").devices, 1u);
    EXPECT_EQ(store.group_info("g2", "").devices, 3u);
    std::vector<std::string> g2;
    for (const auto& device : store.list_group("g2")) g2.push_back(device.token);
    EXPECT_EQ(g2, (std::vector<std::string>{token_of(2), token_of(3), token_of(4)}));
    EXPECT_EQ(store.get_device(token_of(4))->environment, Environment::sandbox);
    EXPECT_TRUE(store.check().empty());
}

TEST_F(StoreRegistration, ThreadsWriteWhileAnotherReads) {
    // MDB_NOTLS: transactions of several threads of one process, as in nginx's thread pool.
    constexpr int per_thread = 500;
    std::vector<std::jthread> writers;
    for (int t = 0; t < 2; ++t) {
        writers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; i += 10) {
                std::vector<Registration> batch;
                for (int j = i; j < i + 10; ++j) batch.push_back(registration(token_of(t * 100'000 + j), "shared"));
                store.register_devices(batch, 1'000);
            }
        });
    }
    std::size_t last_seen_size = 0;
    bool monotonic = true;
    while (last_seen_size < 2 * per_thread) {
        std::size_t size = 0;
        store.for_each_in_group("shared", [&](const Device&) { ++size; });
        monotonic = monotonic && size >= last_seen_size;
        last_seen_size = size;
    }
    writers.clear();
    EXPECT_TRUE(monotonic);
    EXPECT_EQ(store.group_info("shared", "").devices, 2u * per_thread);
    EXPECT_TRUE(store.check().empty());
}

// Reads reuse one kept (reset) read transaction, renewed each time and handed between threads:
// each must still see every commit made before it began.
TEST_F(StoreRegistration, EachReadSeesEveryCommitBeforeItFromAnyThread) {
    for (int i = 0; i < 40; ++i) {
        store.register_device(registration(token_of(i), "g"), 1'000);
        const auto expected = static_cast<std::size_t>(i + 1);
        if (i % 2 == 0) {
            EXPECT_EQ(store.group_info("g", "").devices, expected);
        } else {
            std::size_t seen = 0;
            std::jthread([&] { seen = store.group_info("g", token_of(i)).devices; }).join();
            EXPECT_EQ(seen, expected);
        }
        EXPECT_TRUE(store.group_info("g", token_of(i)).origin_member);
    }
    // Two readers at once: one takes the kept transaction, the other begins its own.
    store.for_each_in_group("g", [&](const Device&) { EXPECT_EQ(store.group_info("g", "").devices, 40u); });
}

// An input that hands out its text only when released, and says when the first read came:
// import_jsonl reads it inside its open write transaction.
class GatedInput : public std::streambuf {
public:
    explicit GatedInput(std::string text) : text_(std::move(text)) {}
    void wait_for_reader() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return reading_; });
    }
    void release() {
        std::lock_guard lock(mutex_);
        released_ = true;
        changed_.notify_all();
    }

protected:
    int_type underflow() override {
        if (gptr() != nullptr && gptr() < egptr()) return traits_type::to_int_type(*gptr());
        if (served_) return traits_type::eof();
        std::unique_lock lock(mutex_);
        reading_ = true;
        changed_.notify_all();
        changed_.wait(lock, [&] { return released_; });
        served_ = true;
        setg(text_.data(), text_.data(), text_.data() + text_.size());
        return traits_type::to_int_type(*gptr());
    }

private:
    std::string text_;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool reading_ = false;
    bool released_ = false;
    bool served_ = false;
};

TEST_F(StoreRegistration, ReadsGoOnWhileAWriteTransactionIsOpen) {
    store.register_device(registration(token_of(1), "g1"), 1'764'147'600'000);
    Device added = *store.get_device(token_of(1));
    added.token = token_of(2);
    GatedInput input(device_to_json(added) + "\n");
    std::jthread writer([&] {
        std::istream in(&input);
        store.import_jsonl(in);
    });
    input.wait_for_reader();  // the import's write transaction is open now
    // Readers neither wait for it nor see its uncommitted device.
    EXPECT_EQ(store.list_group("g1").size(), 1u);
    EXPECT_EQ(store.get_device(token_of(2)), std::nullopt);
    input.release();
    writer.join();
    EXPECT_EQ(store.list_group("g1").size(), 2u);
}

}  // namespace
}  // namespace pushsync::test
