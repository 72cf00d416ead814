// SPDX-License-Identifier: BSD-2-Clause
// File modes whatever the umask (nginx's daemon runs with umask 0): the queue file 0660, the store's
// folder 2770 and its LMDB files 0660, and a queue file or store that others may write refused with
// one line naming the path and the mode. docs/architecture.md, "Trust and ownership".
#include <gtest/gtest.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"
#include "tests/support/process.hpp"

namespace pushsync {
namespace {

using test::TempDir;
namespace fs = std::filesystem;

// Sets the umask for one scope (the way nginx's master runs: umask 0).
class Umask {
public:
    explicit Umask(mode_t mask) : old_(::umask(mask)) {}
    ~Umask() { ::umask(old_); }
    Umask(const Umask&) = delete;
    Umask& operator=(const Umask&) = delete;

private:
    mode_t old_;
};

mode_t mode_of(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
}

StoreOptions store_at(const fs::path& path) {
    StoreOptions options;
    options.path = path.string();
    options.map_size = 1 << 20;
    return options;
}

TEST(FileModes, TheQueueFileIs0660UnderUmask0And022And077) {
    for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
        TempDir dir;
        const auto path = dir / "queue";
        {
            Umask umask(mask);
            Queue::open(path.string(), 8);
        }
        EXPECT_EQ(mode_of(path), 0660u) << "umask " << mask;
        {
            Umask umask(mask);
            Queue::reset(path.string(), 8);
        }
        EXPECT_EQ(mode_of(path), 0660u) << "after reset, umask " << mask;
    }
}

TEST(FileModes, TheStoreFolderIs2770AndItsFiles0660UnderUmask0And077) {
    for (mode_t mask : {mode_t{0}, mode_t{077}}) {
        TempDir dir;
        const auto path = dir / "lib" / "store";
        {
            Umask umask(mask);
            Store store(store_at(path));
        }
        EXPECT_EQ(mode_of(path), 02770u) << "umask " << mask;
        EXPECT_EQ(mode_of(dir / "lib"), 02770u) << "a parent it created, umask " << mask;
        EXPECT_EQ(mode_of(path / "data.mdb"), 0660u) << "umask " << mask;
        EXPECT_EQ(mode_of(path / "lock.mdb"), 0660u) << "umask " << mask;
    }
}

// One first opener of a store as a user of its group: wait for `start`, open it (creating what is
// missing) under `mask`, exit 0, or 1 with the error on stderr.
[[noreturn]] void open_store_as(uid_t uid, gid_t gid, mode_t mask, const fs::path& path, int start) {
    int status = 1;
    try {
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) throw std::runtime_error("setuid");
        ::umask(mask);
        char go = 0;
        if (::read(start, &go, 1) < 0) throw std::runtime_error("start pipe");
        Store store(store_at(path));
        status = 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "uid %u: %s\n", static_cast<unsigned>(uid), e.what());
    }
    ::_exit(status);
}

// nginx's workers (www-data) and the sender (pushsync) are different users of the group pushsync,
// and either may be first to open the store. The folder and files must appear with their final
// modes: created under a narrow umask and chmod-ed afterwards, the other user meets them closed in
// between ("store …: open: Permission denied", seen in tests/system/package).
TEST(FileModes, TwoUsersOfTheGroupCreatingTheStoreAtOnceBothOpenIt) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the two openers as two users";
    constexpr uid_t kWorker = 4241, kSender = 4242;
    constexpr gid_t kGroup = 4243;
    TempDir dir;
    ASSERT_EQ(::chmod(dir.path().c_str(), 0711), 0);
    const auto shared = dir / "lib";  // like /var/lib/pushsync: root's, group pushsync, 2770
    ASSERT_EQ(::mkdir(shared.c_str(), 0), 0);
    ASSERT_EQ(::chown(shared.c_str(), 0, kGroup), 0);
    ASSERT_EQ(::chmod(shared.c_str(), 02770), 0);
    for (int round = 0; round < 40; ++round) {
        const auto path = shared / ("store" + std::to_string(round));
        int start[2];
        ASSERT_EQ(::pipe(start), 0);
        std::vector<pid_t> children;
        for (const auto& [uid, mask] : {std::pair{kWorker, mode_t{077}}, std::pair{kSender, mode_t{022}}}) {
            const pid_t pid = ::fork();
            ASSERT_GE(pid, 0);
            if (pid == 0) {
                ::close(start[1]);
                open_store_as(uid, kGroup, mask, path, start[0]);
            }
            children.push_back(pid);
        }
        ::close(start[0]);
        ::close(start[1]);  // end of file: both start together
        for (const pid_t pid : children) {
            int status = 0;
            ASSERT_EQ(::waitpid(pid, &status, 0), pid);
            EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round << ": an opener failed";
        }
        if (HasFailure()) break;
        EXPECT_EQ(mode_of(path), 02770u);
        EXPECT_EQ(mode_of(path / "data.mdb"), 0660u);
        EXPECT_EQ(mode_of(path / "lock.mdb"), 0660u);
    }
}

TEST(FileModes, AQueueFileOthersMayWriteIsRefusedNamingPathAndMode) {
    TempDir dir;
    const auto path = dir / "queue";
    Queue::open(path.string(), 8);
    ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
    for (bool existing : {false, true}) {
        try {
            if (existing)
                Queue::open_existing(path.string());
            else
                Queue::open(path.string(), 8);
            FAIL() << "a world-writable queue file was opened";
        } catch (const QueueError& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find(path.string()), std::string::npos) << what;
            EXPECT_NE(what.find("writable by others (mode 0666)"), std::string::npos) << what;
            EXPECT_EQ(what.find('\n'), std::string::npos) << what;
        }
    }
    ASSERT_EQ(::chmod(path.c_str(), 0660), 0);
    EXPECT_NO_THROW(Queue::open(path.string(), 8));
}

TEST(FileModes, AStoreOthersMayWriteIsRefusedNamingPathAndMode) {
    for (const char* part : {"", "data.mdb", "lock.mdb"}) {
        TempDir dir;
        const auto path = dir / "store";
        { Store store(store_at(path)); }
        const auto loose = *part ? path / part : path;
        ASSERT_EQ(::chmod(loose.c_str(), *part ? 0662 : 02777), 0);
        for (bool read_only : {false, true}) {
            auto options = store_at(path);
            options.read_only = read_only;
            try {
                Store store(options);
                FAIL() << "opened a store with " << loose << " writable by others";
            } catch (const StoreError& e) {
                const std::string what = e.what();
                EXPECT_NE(what.find(loose.string() + ": writable by others (mode " + (*part ? "0662" : "2777") + ")"),
                          std::string::npos)
                    << what;
            }
        }
    }
}

}  // namespace
}  // namespace pushsync
