// SPDX-License-Identifier: BSD-2-Clause
// Issue 25 §4 and §6: the files pushsyncctl writes (export 0600, backup 0660 in a 0700/0770 folder
// that was new or empty, both created exclusively under an unpredictable name and renamed into
// place, never through a planted link), and store strings that reach the admin's terminal only
// with their control characters escaped.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/cli/cli_fixture.hpp"

namespace pushsync::test {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
}

// The admin's shell: umask 022, under which a plain create is 0644.
struct Umask022 {
    mode_t old = ::umask(022);
    ~Umask022() { ::umask(old); }
};

class CliFiles : public CliTest {
protected:
    void SetUp() override {
        auto store = open_store();
        add(*store, token_of(1), "g", "com.example.app", Environment::production, "4.1");
        write_file(canary_, "not pushsync's\n");
    }
    void expect_canary_unchanged() const { EXPECT_EQ(read_file(canary_), "not pushsync's\n"); }
    // The pid the next child will most likely get, and the ones after it.
    static std::vector<pid_t> next_pids(int n) {
        const std::string last = read_file("/proc/sys/kernel/ns_last_pid");
        const pid_t from = static_cast<pid_t>(std::stol(last)) + 1;
        std::vector<pid_t> out;
        for (int i = 0; i < n; ++i) out.push_back(from + i);
        return out;
    }

    TempDir outside_;
    fs::path canary_ = outside_ / "canary";
    Umask022 umask_;
};

TEST_F(CliFiles, ExportIsMode0600AndReplacesAPlantedLinkInsteadOfWritingThroughIt) {
    const fs::path target = dir_ / "devices.jsonl";
    fs::create_symlink(canary_, target);
    // Links at the temporary names an export used to take (TARGET.tmp-PID), for the pids coming.
    for (pid_t pid : next_pids(200)) fs::create_symlink(canary_, target.string() + ".tmp-" + std::to_string(pid));
    const auto r = ctl({"export", target.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    expect_canary_unchanged();
    EXPECT_FALSE(fs::is_symlink(target));
    EXPECT_EQ(mode_of(target), 0600u);
    EXPECT_NE(read_file(target).find(token_of(1)), std::string::npos);
    std::size_t leftovers = 0;
    for (const auto& e : fs::directory_iterator(dir_.path()))
        leftovers += e.path().filename().string().find("devices.jsonl.tmp-") == 0 && !fs::is_symlink(e.symlink_status());
    EXPECT_EQ(leftovers, 0u) << "a temporary file was left";
}

TEST_F(CliFiles, BackupIsMode0660InANewFolderOf0770) {
    const fs::path backup = dir_ / "backup";
    const auto r = ctl({"backup", backup.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(mode_of(backup), 0770u);
    EXPECT_EQ(mode_of(backup / "data.mdb"), 0660u);
    // The read-back of what was copied opens it: LMDB's lock file, made with the same mode.
    for (const auto& e : fs::directory_iterator(backup)) EXPECT_EQ(mode_of(e.path()), 0660u) << e.path();
}

TEST_F(CliFiles, BackupRefusesAFolderOfAnotherModeOrWithAnythingInIt) {
    const fs::path wide = dir_ / "wide";
    fs::create_directory(wide);
    fs::permissions(wide, fs::perms(0755));
    auto r = ctl({"backup", wide.string()});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.err, "pushsyncctl: backup " + wide.string() + ": folder of mode 0755, where a backup's is 0700 or 0770; "
                     "refused (chmod 0770 " + wide.string() + ")\n");
    EXPECT_FALSE(fs::exists(wide / "data.mdb"));

    const fs::path used = dir_ / "used";
    fs::create_directory(used);
    fs::permissions(used, fs::perms(0700));
    fs::create_symlink(canary_, used / "notes");
    r = ctl({"backup", used.string()});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.err, "pushsyncctl: backup " + used.string() + ": holds notes; a backup goes into a new or empty folder "
                     "(choose another, or empty it: rm -r " + used.string() + "/*)\n");
    expect_canary_unchanged();

    const fs::path empty = dir_ / "empty";
    fs::create_directory(empty);
    fs::permissions(empty, fs::perms(0700));
    r = ctl({"backup", empty.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(mode_of(empty / "data.mdb"), 0660u);

    const fs::path linked = dir_ / "linked";
    fs::create_directory_symlink(outside_.path(), linked);
    r = ctl({"backup", linked.string()});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("a symbolic link"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(outside_ / "data.mdb"));
}

// A store written by something other than nginx's validation (an older build, a member of group
// pushsync): what it holds reaches the admin's terminal escaped.
TEST_F(CliFiles, StoreStringsReachTheTerminalWithControlCharactersEscaped) {
    const std::string title = "\x1b]0;owned\x07";
    {
        auto store = open_store();
        add(*store, token_of(2), "g2", "com.evil\x1b[2J", Environment::production, title, now_unix_ms() - 400 * ms_per_day);
    }
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"devices", "g2"}, {"device", token_of(2)}, {"groups"}, {"stats"},
          {"gc", "--dry-run", "--older-than", "300"}}) {
        const auto r = ctl(args);
        EXPECT_EQ(r.exit_code, 0) << args[0] << r.err;
        EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << args[0] << ": " << r.out;
        EXPECT_EQ(r.out.find('\x07'), std::string::npos) << args[0];
        if (args[0] != "groups") {
            EXPECT_NE(r.out.find("com.evil\\x1b[2J"), std::string::npos) << args[0] << r.out;
        }
        if (args[0] == "devices" || args[0] == "device") {
            EXPECT_NE(r.out.find("\\x1b]0;owned\\x07"), std::string::npos) << r.out;
        }
    }
}

}  // namespace
}  // namespace pushsync::test
