// SPDX-License-Identifier: BSD-2-Clause
// Issue 25 §3 through the real processes: a member of group pushsync (nginx's worker user after a
// compromise) plants a symbolic link, a hard link or another user's file under a name pushsync
// opens in its folders (data.mdb, lock.mdb, the queue file, the metrics file, a backup's data.mdb).
// nginx, the sender and every pushsyncctl command that opens the name refuse with one line (which
// file, what is wrong, the command that fixes it), and the file the link points at is byte for
// byte unchanged. Run as root (as this machine runs tests), pushsyncctl first drops to the store
// folder's owner. planted_opens_test.cpp does the same through the library's openers.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"
#include "tests/system/delivery/e2e.hpp"

namespace pushsync::sender::e2e {
namespace {

namespace fs = std::filesystem;

const std::string kToken = std::string(63, 'a') + "1";

std::string symlink_line(const fs::path& name, const fs::path& target) {
    return name.string() + ": a symbolic link (to " + target.string() + "), which pushsync never follows in its folders; "
           "refused (check who planted it, then remove it: rm " + name.string() + ")";
}

struct Planted : ::testing::Test {
    TempDir outside;  // where the planted links point: never inside pushsync's folders
    TempDir dir;
    fs::path canary = outside / "canary";
    std::string canary_bytes = "root's file: not to be opened by pushsync\n";

    fs::path store() const { return dir / "store"; }
    fs::path queue() const { return dir / "queue"; }
    fs::path config() const { return dir / "pushsync.yaml"; }

    void SetUp() override {
        write_file(canary, canary_bytes);
        ::chmod(canary.c_str(), 0600);
        write_file(config(), "store:\n  path: " + store().string() + "\n  map_size: 64MiB\nqueue:\n  path: " +
                                 queue().string() + "\n  capacity: 8\n" +
                                 "apps:\n  - bundle_id: com.example.app\n    auth: {type: token, team_id: ABCDE12345, "
                                 "key_id: ABC123DEFG, key_file: /nonexistent.p8}\n");
        StoreOptions options;
        options.path = store().string();
        options.map_size = 64ull << 20;
        {
            Store s(options);
            Registration r;
            r.token = kToken;
            r.group = "g";
            r.bundle_id = "com.example.app";
            s.register_device(r, now_unix_ms());
        }
        Queue::open(queue().string(), 8);
        write_file(dir / "import.jsonl", "");
        write_file(dir / "groups.txt", "g\n");
    }

    CommandResult ctl(std::vector<std::string> args) const {
        std::vector<std::string> argv{(binary_dir() / "cli" / "pushsyncctl").string(), "--config", config().string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv);
    }
    void plant_symlink(const fs::path& name) const {
        fs::remove(name);
        fs::create_symlink(canary, name);
    }
    void expect_canary_unchanged(const std::string& after) const {
        EXPECT_EQ(read_file(canary), canary_bytes) << "after " << after;
        struct stat st {};
        ASSERT_EQ(::stat(canary.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0600u) << "after " << after;
    }
    // Every command that opens the store, read-only and writing.
    std::vector<std::vector<std::string>> store_commands() const {
        return {{"groups"},
                {"devices", "g"},
                {"device", kToken},
                {"stats"},
                {"gc", "--dry-run", "--older-than", "1"},
                {"gc", "--older-than", "1"},
                {"export", (dir / "export.jsonl").string()},
                {"import", (dir / "import.jsonl").string()},
                {"check"},
                {"remove-device", kToken},
                {"remove-group", "g"},
                {"remove-groups", "--groups", (dir / "groups.txt").string()},
                {"backup", (dir / "backup").string()}};
    }
};

class PlantedStoreFile : public Planted, public ::testing::WithParamInterface<const char*> {};

TEST_P(PlantedStoreFile, EveryCommandRefusesWithOneLineAndTheCanaryIsUnchanged) {
    const fs::path name = store() / GetParam();
    plant_symlink(name);
    for (const auto& args : store_commands()) {
        const auto r = ctl(args);
        EXPECT_EQ(r.exit_code, 3) << args[0] << "\n" << r.out << r.err;
        EXPECT_EQ(r.err, "pushsyncctl: store " + symlink_line(name, canary) + "\n") << args[0];
        expect_canary_unchanged("pushsyncctl " + args[0]);
        ASSERT_TRUE(fs::is_symlink(name)) << "refused, not silently replaced";
    }
}

TEST_P(PlantedStoreFile, AnotherUsersFileIsRefusedToo) {
    if (::geteuid() != 0) GTEST_SKIP() << "making another user's file needs root";
    const fs::path name = store() / GetParam();
    const fs::path aside = name.string() + ".aside";
    fs::rename(name, aside);
    fs::copy_file(aside, name);
    ASSERT_EQ(::chown(name.c_str(), 65534, 65534), 0);
    const auto r = ctl({"stats"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find("pushsyncctl: store " + name.string() + ": owned by "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("neither this user (root), the folder's owner nor its group; refused (once you know what it "
                         "is: chown root:root " + name.string() + ")"),
              std::string::npos)
        << r.err;
}

INSTANTIATE_TEST_SUITE_P(Files, PlantedStoreFile, ::testing::Values("data.mdb", "lock.mdb"),
                         [](const auto& info) { return std::string(info.param[0] == 'd' ? "Data" : "Lock"); });

TEST_F(Planted, ABackupIntoAFolderHoldingAPlantedLinkIsRefused) {
    const fs::path backup = dir / "backup";
    fs::create_directory(backup);
    fs::permissions(backup, fs::perms(0700));
    const fs::path absent = outside / "made-by-root";  // a link to a file that does not exist yet
    fs::create_symlink(absent, backup / "data.mdb");
    const auto r = ctl({"backup", backup.string()});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_EQ(r.err, "pushsyncctl: backup " + backup.string() + ": holds data.mdb; a backup goes into a new or empty "
                     "folder (choose another, or empty it: rm -r " + backup.string() + "/*)\n");
    EXPECT_FALSE(fs::exists(fs::symlink_status(absent))) << "the copy was written through the link";
}

// A deployment's store: the folder owned by the sender's user (here nobody), group-shared.
TEST_F(Planted, RunAsRootPushsyncctlDropsToTheStoreFoldersOwnerBeforeOpeningAnything) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    const fs::path fresh = dir / "fresh-store";
    fs::create_directory(fresh);
    ASSERT_EQ(::chown(fresh.c_str(), 65534, 65534), 0);
    ASSERT_EQ(::chmod(fresh.c_str(), 02770), 0);
    write_file(dir / "one.jsonl", R"({"token":")" + kToken +
                                      R"(","group":"g","bundle_id":"com.example.app","environment":"production",)"
                                      R"("registered_at":"2026-11-26T09:00:00Z","last_seen":"2026-11-26T09:00:00Z"})"
                                      "\n");
    ::chmod((dir / "one.jsonl").c_str(), 0644);
    ::chmod(dir.path().c_str(), 0755);
    const auto r = ctl({"--store", fresh.string(), "import", (dir / "one.jsonl").string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    for (const char* name : {"data.mdb", "lock.mdb"}) {
        struct stat st {};
        ASSERT_EQ(::stat((fresh / name).c_str(), &st), 0) << name;
        EXPECT_EQ(st.st_uid, 65534u) << name << " was made by root, not by the folder's owner";
    }
    plant_symlink(fresh / "lock.mdb");
    const auto refused = ctl({"--store", fresh.string(), "stats"});
    EXPECT_EQ(refused.exit_code, 3);
    EXPECT_EQ(refused.err, "pushsyncctl: store " + symlink_line(fresh / "lock.mdb", canary) + "\n");
    expect_canary_unchanged("stats as root");
}

// nginx and the sender meet the same links: one line each in their logs, the canary unchanged.
class PlantedForTheStack : public Planted, public ::testing::WithParamInterface<const char*> {};

TEST_P(PlantedForTheStack, NginxAndTheSenderRefuseWithOneLine) {
    Stack::Options o;
    o.start_nginx = false;
    o.start_sender = false;
    Stack s(o);
    {  // the stack's own store and queue, made as they run, then a link planted in them
        StoreOptions options;
        options.path = s.nginx.store_path().string();
        options.map_size = 64ull << 20;
        Store store(options);
    }
    Queue::open(s.nginx.queue_path().string(), 4096);
    const std::string file = GetParam();
    const fs::path name = file == "queue" ? s.nginx.queue_path() : s.nginx.store_path() / file;
    const std::string prefix = file == "queue" ? "queue file " : "store ";
    plant_symlink(name);
    s.nginx.start();
    const auto put = s.nginx.request("PUT", "/v1/groups/g/devices/" + kToken, R"({"bundle_id":"com.example.app"})");
    const auto notify = s.nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"t"})");
    EXPECT_EQ(file == "queue" ? notify.status : put.status, 503) << put.body << notify.body;
    EXPECT_NE(s.nginx.error_log().find(prefix + symlink_line(name, canary)), std::string::npos) << s.nginx.error_log();
    expect_canary_unchanged("nginx");

    Process sender = Process::spawn({Stack::sender_binary().string(), "--config", s.nginx.config_path().string()},
                                    s.sender_log());
    const int status = sender.wait(std::chrono::seconds(15));
    EXPECT_NE(status, 0) << read_file(s.sender_log());
    EXPECT_NE(read_file(s.sender_log()).find(prefix + symlink_line(name, canary)), std::string::npos)
        << read_file(s.sender_log());
    expect_canary_unchanged("the sender");
}

INSTANTIATE_TEST_SUITE_P(Files, PlantedForTheStack, ::testing::Values("data.mdb", "lock.mdb", "queue"),
                         [](const auto& info) {
                             const std::string p = info.param;
                             return p == "queue" ? std::string("Queue") : p[0] == 'd' ? std::string("Data") : std::string("Lock");
                         });

TEST_F(Planted, TheSenderRefusesAPlantedMetricsFileAndLeavesItsTargetAlone) {
    Stack::Options o;
    o.start_sender = false;
    Stack s(o);
    const fs::path metrics = s.nginx.queue_path().string() + ".metrics";
    plant_symlink(metrics);
    s.start_sender();
    EXPECT_TRUE(wait_until([&] {
        return read_file(s.sender_log()).find("metrics file " + symlink_line(metrics, canary)) != std::string::npos;
    })) << read_file(s.sender_log());
    const auto page = s.nginx.request("GET", "/pushsync/metrics");
    EXPECT_EQ(page.body.find("root's file"), std::string::npos);
    expect_canary_unchanged("the sender and a scrape");
    EXPECT_TRUE(fs::is_symlink(metrics)) << "refused, not silently replaced";
}

}  // namespace
}  // namespace pushsync::sender::e2e
