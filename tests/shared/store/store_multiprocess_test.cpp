// SPDX-License-Identifier: BSD-2-Clause
// Several processes writing one store at once, each with its own environment opened after fork,
// as nginx workers, the sender and the CLI do.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include <cstdio>
#include <exception>

#include "tests/shared/store/store_test_support.hpp"

namespace pushsync::test {
namespace {

constexpr std::uint64_t devices_per_process = 10'000;
constexpr std::uint64_t batch_size = 100;

// The child's whole life: wait for the start signal, register its share, exit 0 on success.
[[noreturn]] void register_share(const std::filesystem::path& path, int start_fd, std::uint64_t first_token) {
    int status = 1;
    try {
        char go = 0;
        if (::read(start_fd, &go, 1) < 0) throw std::runtime_error("start pipe");
        Store store(store_options(path));
        for (std::uint64_t n = 0; n < devices_per_process; n += batch_size) {
            std::vector<Registration> batch;
            for (std::uint64_t i = n; i < n + batch_size; ++i) {
                // Both processes write into the same groups, so they contend on the same counts.
                batch.push_back(registration(token_of(first_token + i), "g" + std::to_string(i % 50)));
            }
            store.register_devices(batch, 1'764'147'600'000);
        }
        status = 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", static_cast<int>(::getpid()), e.what());
    }
    ::_exit(status);
}

TEST(StoreMultiProcess, TwoProcessesRegisteringAtOnceLoseNothing) {
    TempDir dir;
    auto path = dir / "store";
    int start[2];
    ASSERT_EQ(::pipe(start), 0);
    std::vector<pid_t> children;
    for (std::uint64_t child = 0; child < 2; ++child) {
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(start[1]);
            register_share(path, start[0], child * 1'000'000);
        }
        children.push_back(pid);
    }
    ::close(start[0]);
    ::close(start[1]);  // end of file: both children start together

    for (pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << pid << " status " << status;
    }

    Store store(store_options(path));
    EXPECT_EQ(store.stats().devices, 2 * devices_per_process);
    std::size_t counted = 0;
    for (const auto& group : store.list_groups(0)) counted += group.devices;
    EXPECT_EQ(counted, 2 * devices_per_process);
    EXPECT_EQ(store.group_info("g7", "").devices, 2 * devices_per_process / 50);
    EXPECT_TRUE(store.get_device(token_of(1'000'000 + devices_per_process - 1)).has_value());
    auto problems = store.check();
    EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);

    // store_tests depends on the pushsyncctl target (tests/shared/store/CMakeLists.txt): it is built.
    auto cli = binary_dir() / "cli" / "pushsyncctl";
    ASSERT_TRUE(std::filesystem::exists(cli)) << cli << " is missing";
    write_file(dir / "pushsync.yaml",
               "store:\n  path: " + path.string() + "\nqueue:\n  path: " + (dir / "queue").string() +
                   "\napps:\n  - bundle_id: com.example.app\n    auth:\n      type: token\n"
                   "      team_id: ABCDE12345\n      key_id: ABC123DEFG\n      key_file: " +
                   (dir / "AuthKey.p8").string() + "\n");
    auto result = run({cli.string(), "--config", (dir / "pushsync.yaml").string(), "check"});
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
}

}  // namespace
}  // namespace pushsync::test

namespace pushsync::test {
namespace {

TEST(StoreMultiProcess, AMapGrownByAnotherProcessIsAdopted) {
    TempDir dir;
    auto path = dir / "store";
    Store small(store_options(path, 1ull << 20));
    small.register_device(registration(token_of(0), "g0"), 1'000);

    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        int status = 1;
        try {  // a process configured with a bigger map writes past the first one's map
            Store big(store_options(path, 8ull << 20));
            for (std::uint64_t n = 1; n <= 10'000; n += 500) {
                std::vector<Registration> batch;
                for (std::uint64_t i = n; i < n + 500; ++i) batch.push_back(registration(token_of(i), "g1"));
                big.register_devices(batch, 1'000);
            }
            status = big.stats().map_used > (1ull << 20) ? 0 : 2;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child: %s\n", e.what());
        }
        ::_exit(status);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;

    EXPECT_EQ(small.group_info("g1", "").devices, 10'000u);
    EXPECT_EQ(small.stats().map_size, 8ull << 20);
    small.register_device(registration(token_of(20'000), "g1"), 1'000);
    EXPECT_TRUE(small.check().empty());
}

}  // namespace
}  // namespace pushsync::test

namespace pushsync::test {
namespace {

TEST(StoreMultiProcess, TheReaderSlotOfACrashedProcessIsCleared) {
    TempDir dir;
    auto path = dir / "store";
    // Held open throughout: the last process to close an environment resets its reader table
    // anyway, so a stale slot only matters while others keep it open, as nginx workers do.
    Store keeper(store_options(path));
    keeper.register_device(registration(token_of(1), "g1"), 1'000);

    pid_t crashed = ::fork();
    ASSERT_GE(crashed, 0);
    if (crashed == 0) {  // dies by SIGKILL in the middle of a read transaction
        Store store(store_options(path));
        store.for_each_in_group("g1", [](const Device&) { ::raise(SIGKILL); });
        ::_exit(1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(crashed, &status, 0), crashed);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    pid_t next = ::fork();  // the next process to open clears the slot and says so
    ASSERT_GE(next, 0);
    if (next == 0) {
        ::testing::internal::CaptureStderr();
        bool cleared = false;
        try {
            Store store(store_options(path));
            cleared = ::testing::internal::GetCapturedStderr().find("cleared 1 stale reader slot") != std::string::npos &&
                      store.list_group("g1").size() == 1;
        } catch (...) {
        }
        ::_exit(cleared ? 0 : 3);
    }
    ASSERT_EQ(::waitpid(next, &status, 0), next);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
}  // namespace pushsync::test
