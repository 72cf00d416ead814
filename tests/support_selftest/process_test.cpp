// SPDX-License-Identifier: BSD-2-Clause
// The helpers every integration test leans on must themselves be right.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/support/process.hpp"

using namespace pushsync::test;

TEST(Run, CapturesStdoutStderrAndExitCode) {
    auto r = run({"sh", "-c", "echo out; echo err >&2; exit 3"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.out, "out\n");
    EXPECT_EQ(r.err, "err\n");
}

TEST(Run, FeedsStdinAndPassesEnvironment) {
    auto r = run({"sh", "-c", "cat; printf %s \"$PUSHSYNC_X\""}, "hello ", {{"PUSHSYNC_X", "world"}});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "hello world");
}

TEST(Run, MissingProgramExits127) { EXPECT_EQ(run({"/nonexistent/program"}).exit_code, 127); }

TEST(Process, KillReportsSignal) {
    auto p = Process::spawn({"sleep", "60"});
    EXPECT_TRUE(p.running());
    EXPECT_EQ(p.kill_and_wait(SIGKILL), 128 + SIGKILL);
    EXPECT_FALSE(p.running());
}

TEST(Process, WaitReturnsExitCodeAndLogsOutput) {
    TempDir dir;
    auto p = Process::spawn({"sh", "-c", "echo logged; exit 5"}, dir / "log");
    EXPECT_EQ(p.wait(), 5);
    EXPECT_EQ(read_file(dir / "log"), "logged\n");
}

TEST(Ports, FreePortBecomesReachableOnceListening) {
    int port = free_tcp_port();
    EXPECT_FALSE(wait_for_port(port, std::chrono::milliseconds(50)));
    auto p = Process::spawn({"python3", "-c",
                             "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1'," + std::to_string(port) +
                                 "))\ns.listen()\ntime.sleep(30)"});
    EXPECT_TRUE(wait_for_port(port));
}

TEST(TempDir, RemovesEverythingOnDestruction) {
    std::filesystem::path kept;
    {
        TempDir dir;
        kept = dir.path();
        std::filesystem::create_directories(dir / "a/b");
        write_file(dir / "a/b/c", "x");
        EXPECT_EQ(read_file(dir / "a/b/c"), "x");
    }
    EXPECT_FALSE(std::filesystem::exists(kept));
}
