// SPDX-License-Identifier: BSD-2-Clause
// nginx started as its daemon runs (umask 0: ngx_daemon() sets it; the
// fixture runs `daemon off`, so the test sets the umask the master inherits) creates the queue
// file and the store with no permission for others, and refuses a queue file or store others may
// write with one error-log line naming the path and the mode.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>

#include "tests/support/nginx_fixture.hpp"
#include "tests/support/process.hpp"

namespace pushsync::test {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
}

// nginx's master daemonises with umask 0; the fixture's nginx inherits the test's.
void start_with_umask_0(NginxFixture& nginx) {
    const mode_t old = ::umask(0);
    try {
        nginx.start();
    } catch (...) {
        ::umask(old);
        throw;
    }
    ::umask(old);
}

// A device in group "g", so that notifies to it are taken (202) when the queue is.
void register_one(const NginxFixture& nginx) {
    const auto r = nginx.request("PUT", "/v1/groups/g/devices/" + std::string(64, 'a'), R"({"bundle_id":"com.example.app"})");
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.status << r.body << r.error;
}

// The error log's lines containing `needle`.
std::vector<std::string> lines_with(const std::string& log, const std::string& needle) {
    std::vector<std::string> out;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos) out.push_back(line);
    return out;
}

TEST(NginxModes, UnderUmask0TheQueueAndStoreGiveOthersNothing) {
    NginxOptions options;
    options.start = false;
    NginxFixture nginx(options);
    start_with_umask_0(nginx);
    ASSERT_TRUE(wait_until([&] { return fs::exists(nginx.queue_path()) && fs::exists(nginx.store_path() / "lock.mdb"); }));
    register_one(nginx);
    const auto r = nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"t"})");
    EXPECT_EQ(r.status, 202) << r.body << r.error;

    EXPECT_EQ(mode_of(nginx.queue_path()), 0660u);
    EXPECT_EQ(mode_of(nginx.store_path()), 02770u);
    EXPECT_EQ(mode_of(nginx.store_path() / "data.mdb"), 0660u);
    EXPECT_EQ(mode_of(nginx.store_path() / "lock.mdb"), 0660u);
    for (const auto& p : {nginx.queue_path(), nginx.store_path(), nginx.store_path() / "data.mdb",
                          nginx.store_path() / "lock.mdb"})
        EXPECT_EQ(mode_of(p) & 07, 0u) << p << " gives others permissions";
}

TEST(NginxModes, AQueueFileOthersMayWriteIsRefusedWithOneLineNamingPathAndMode) {
    NginxOptions options;
    options.start = false;
    NginxFixture nginx(options);
    start_with_umask_0(nginx);
    ASSERT_TRUE(wait_until([&] { return fs::exists(nginx.queue_path()); }));
    nginx.stop();
    fs::permissions(nginx.queue_path(), fs::perms(0666));
    start_with_umask_0(nginx);
    register_one(nginx);

    const auto r = nginx.request("POST", "/v1/groups/g/notify", R"({"tail":"t"})");
    EXPECT_EQ(r.status, 503) << r.body << r.error;
    const std::string expected =
        "queue file " + nginx.queue_path().string() + ": writable by others (mode 0666)";
    const auto lines = lines_with(nginx.error_log(), expected);
    EXPECT_FALSE(lines.empty()) << nginx.error_log();
    for (const auto& line : lines) EXPECT_NE(line.find("[error]"), std::string::npos) << line;
    EXPECT_EQ(mode_of(nginx.queue_path()), 0666u) << "refused, not silently changed";
}

TEST(NginxModes, AStoreOthersMayWriteIsRefusedWithOneLineNamingPathAndMode) {
    NginxOptions options;
    options.start = false;
    NginxFixture nginx(options);
    start_with_umask_0(nginx);
    ASSERT_TRUE(wait_until([&] { return fs::exists(nginx.store_path() / "data.mdb"); }));
    nginx.stop();
    fs::permissions(nginx.store_path() / "data.mdb", fs::perms(0666));
    start_with_umask_0(nginx);

    const auto r = nginx.request("PUT", "/v1/groups/g/devices/" + std::string(64, 'a'),
                                 R"({"bundle_id":"com.example.app"})");
    EXPECT_EQ(r.status, 503) << r.body << r.error;
    const std::string expected = "store " + (nginx.store_path() / "data.mdb").string() + ": writable by others (mode 0666)";
    EXPECT_FALSE(lines_with(nginx.error_log(), expected).empty()) << nginx.error_log();
}

}  // namespace
}  // namespace pushsync::test
