// SPDX-License-Identifier: BSD-2-Clause
// `pushsyncctl backup` taken while nginx registers devices and the sender writes its
// outbox: the copy opens, passes `check`, and holds every registration answered before it began.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "shared/config/config.hpp"
#include "shared/store/store.hpp"
#include "tests/system/shard/cluster.hpp"
#include "tests/system/shard/traffic.hpp"

namespace pushsync::test {
namespace {

unsigned mode_of(const std::filesystem::path& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

TEST(HotBackup, CopyDuringRegistrationsHoldsEveryAnsweredOneAndPassesCheck) {
    ApnsSimFixture sim;
    Shard shard("a", sim);
    std::mutex mutex;
    std::map<std::string, std::string> answered;  // token -> group
    std::atomic<int> failures{0};
    std::vector<std::jthread> load;
    for (int w = 0; w < 3; ++w) {
        load.emplace_back([&, w](std::stop_token stop) {
            HttpClient client(shard.nginx.http_port());
            for (int i = 0; !stop.stop_requested(); ++i) {
                const int n = w * 1000000 + i;
                const std::string group = group_of(n / 3);
                const Call reg = register_call(group, token_of(n, 'd'));
                const HttpAnswer r = client.request(reg.method, reg.path, reg.body);
                if (r.status != 201) {
                    ++failures;
                    continue;
                }
                {
                    std::lock_guard lock(mutex);
                    answered[token_of(n, 'd')] = group;
                }
                if (i % 5 == 4) {  // the sender writes the store too: outbox, sent tails
                    const Call notify = notify_call(group, "T" + std::to_string(i));
                    if (client.request(notify.method, notify.path, notify.body).status != 202) ++failures;
                }
            }
        });
    }
    auto answered_count = [&] {
        std::lock_guard lock(mutex);
        return answered.size();
    };
    ASSERT_TRUE(wait_until([&] { return answered_count() >= 600; }, std::chrono::seconds(120)));

    TempDir backups;
    const auto dir = backups.path() / "store-backup";
    std::map<std::string, std::string> before;
    {
        std::lock_guard lock(mutex);
        before = answered;
    }
    const CommandResult backup = shard.ctl({"backup", dir.string(), "--json"});
    const std::size_t answered_during = answered_count();
    ASSERT_TRUE(wait_until([&] { return answered_count() >= answered_during + 100; }, std::chrono::seconds(60)));
    for (auto& t : load) t.request_stop();
    load.clear();
    ASSERT_EQ(backup.exit_code, 0) << backup.out << backup.err;
    EXPECT_EQ(failures.load(), 0);

    EXPECT_EQ(mode_of(dir), 0770u);
    EXPECT_EQ(mode_of(dir / "data.mdb"), 0660u);

    const CommandResult check = shard.ctl({"--store", dir.string(), "check", "--json"});
    ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
    EXPECT_TRUE(nlohmann::json::parse(check.out).at("consistent").get<bool>());

    StoreOptions options = StoreOptions::from(load_config(shard.nginx.config_path().string()).store);
    options.path = dir.string();
    options.read_only = true;
    const Store copy(options);
    std::size_t missing = 0;
    for (const auto& [token, group] : before) {
        const auto device = copy.get_device(token);
        if (!device || device->group != group) ++missing;
    }
    EXPECT_EQ(missing, 0u) << "of " << before.size() << " answered before the backup";
    const std::size_t copied = copy.stats().devices;
    EXPECT_GE(copied, before.size());
    EXPECT_LE(copied, answered_count());
    EXPECT_EQ(nlohmann::json::parse(backup.out).at("devices").get<std::size_t>(), copied);
    std::cout << "[          ] " << before.size() << " answered before the backup, " << copied << " in it, "
              << answered_count() << " in all\n";

    // A second backup into the same folder is refused rather than mixed in.
    const CommandResult again = shard.ctl({"backup", dir.string()});
    EXPECT_EQ(again.exit_code, 3);
    EXPECT_NE(again.err.find("a backup goes into a new or empty folder"), std::string::npos) << again.err;
}

}  // namespace
}  // namespace pushsync::test
