// SPDX-License-Identifier: BSD-2-Clause
// sync: always: the environment flags of each mode, a registration that survives its writer being
// SIGKILLed the moment register returned, and threads committing at once through the shared
// after-commit sync. An OS crash or power loss (what the fsyncs are for) cannot be made here: these
// tests show the mode is in force and that process crashes lose nothing answered.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <thread>

#include "tests/shared/store/store_test_support.hpp"

namespace pushsync::test {
namespace {

TEST(StoreDurability, SyncAlwaysOpensWithNoMetaSyncAndNotNoSync) {
    TempDir dir;
    Store store(store_options(dir / "store"));  // sync: always is the default
    unsigned flags = store.environment_flags();
    EXPECT_NE(flags & MDB_NOMETASYNC, 0u);
    EXPECT_EQ(flags & MDB_NOSYNC, 0u);
    EXPECT_NE(flags & MDB_NOTLS, 0u);
}

TEST(StoreDurability, IntervalModeIsUnchanged) {
    TempDir dir;
    auto options = store_options(dir / "store");
    options.sync = SyncMode::interval;
    Store store(options);
    unsigned flags = store.environment_flags();
    EXPECT_NE(flags & MDB_NOSYNC, 0u);
    EXPECT_EQ(flags & MDB_NOMETASYNC, 0u);
    store.register_device(registration(token_of(1), "g"), 1'000);
    EXPECT_EQ(store.commit_syncs(), 0u);  // the flusher syncs in interval mode, not the commit
}

TEST(StoreDurability, TheOldModeKeepsLmdbsPlainDurableCommit) {
    TempDir dir;
    auto options = store_options(dir / "store");
    options.meta_sync_under_writer_lock = true;
    Store store(options);
    unsigned flags = store.environment_flags();
    EXPECT_EQ(flags & (MDB_NOMETASYNC | MDB_NOSYNC), 0u);
    store.register_device(registration(token_of(1), "g"), 1'000);
    EXPECT_EQ(store.commit_syncs(), 0u);
}

TEST(StoreDurability, EveryWritePathSyncsAfterItsCommit) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    auto syncs = store.commit_syncs();
    auto expect_one_more = [&](const char* what) {
        EXPECT_EQ(store.commit_syncs(), syncs + 1) << what;
        syncs = store.commit_syncs();
    };
    store.register_device(registration(token_of(1), "g"), 1'000);
    expect_one_more("register");
    store.register_device(registration(token_of(2), "g"), 1'000);
    expect_one_more("register");
    store.register_device(registration(token_of(3), "g", "com.example.app", Environment::sandbox), 1'000);
    expect_one_more("register");
    store.register_device(registration(token_of(4), "h"), 1'000);
    expect_one_more("register");
    EXPECT_TRUE(store.unregister_device("g", token_of(1)));
    expect_one_more("unregister");
    EXPECT_EQ(store.prune_unregistered(token_of(2), Environment::production, 2'000), PruneOutcome::removed);
    expect_one_more("prune_unregistered");
    EXPECT_EQ(store.prune_rejected(token_of(3), Environment::sandbox), PruneOutcome::removed);
    expect_one_more("prune_rejected");
    OutboxEntry entry{7, "h", "tail", "", 1'000};
    store.outbox_put(std::span(&entry, 1));
    expect_one_more("outbox_put");
    std::uint64_t id = 7;
    store.outbox_remove(std::span(&id, 1));
    expect_one_more("outbox_remove");
    std::pair<std::string, std::string> sent{token_of(4), "tail"};
    store.record_sent(std::span(&sent, 1));
    expect_one_more("record_sent");
    std::istringstream lines(export_text(store));
    EXPECT_EQ(store.remove_group("h"), 1u);
    expect_one_more("remove_group");
    EXPECT_EQ(store.import_jsonl(lines), 1u);
    expect_one_more("import_jsonl");
    EXPECT_EQ(store.gc(1'000'000, false), 1u);
    expect_one_more("gc");
}

// The writer registers, says so on a pipe and waits to be killed; a fresh process then reads.
TEST(StoreDurability, ARegistrationSurvivesItsWriterBeingKilledRightAfterRegisterReturned) {
    TempDir dir;
    auto path = dir / "store";
    { Store create(store_options(path)); }  // initialised, so the writer's open is quick
    int done[2];
    ASSERT_EQ(::pipe(done), 0);
    pid_t writer = ::fork();
    ASSERT_GE(writer, 0);
    if (writer == 0) {
        ::close(done[0]);
        try {
            Store store(store_options(path));
            auto result = store.register_device(registration(token_of(42), "crash", "com.example.app",
                                                             Environment::production, "4.2"),
                                                1'764'147'600'000);
            char created = result.created ? 'c' : 'u';
            if (::write(done[1], &created, 1) != 1) ::_exit(3);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "writer: %s\n", e.what());
            ::_exit(2);
        }
        for (;;) ::pause();  // killed here, with the store still open
    }
    ::close(done[1]);
    char created = 0;
    ASSERT_EQ(::read(done[0], &created, 1), 1) << "the writer died before register returned";
    ::close(done[0]);
    ASSERT_EQ(::kill(writer, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(writer, &status, 0), writer);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
    EXPECT_EQ(created, 'c');

    pid_t reader = ::fork();
    ASSERT_GE(reader, 0);
    if (reader == 0) {
        int code = 1;
        try {
            Store store(store_options(path));
            auto device = store.get_device(token_of(42));
            code = device && device->group == "crash" && device->app_version == "4.2" &&
                           store.group_info("crash", "").devices == 1 && store.check().empty()
                       ? 0
                       : 4;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "reader: %s\n", e.what());
        }
        ::_exit(code);
    }
    ASSERT_EQ(::waitpid(reader, &status, 0), reader);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "reader status " << status;
}

// Threads commit while others sync: every answered registration is there, and no commit did
// more than one sync (often fewer syncs than commits, but that depends on timing: not asserted).
TEST(StoreDurability, ThreadsCommittingAtOnceLoseNothing) {
    TempDir dir;
    Store store(store_options(dir / "store"));
    constexpr std::uint64_t threads = 4;
    constexpr std::uint64_t per_thread = 50;
    {
        std::vector<std::jthread> writers;
        for (std::uint64_t t = 0; t < threads; ++t) {
            writers.emplace_back([&store, t] {
                for (std::uint64_t i = 0; i < per_thread; ++i) {
                    store.register_device(registration(token_of(t * 1'000 + i), "g" + std::to_string(t)), 1'000);
                }
            });
        }
    }
    EXPECT_EQ(store.stats().devices, threads * per_thread);
    EXPECT_LE(store.commit_syncs(), threads * per_thread + 1);  // + the open's schema write
    EXPECT_GE(store.commit_syncs(), 1u);
    auto problems = store.check();
    EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
}

}  // namespace
}  // namespace pushsync::test
