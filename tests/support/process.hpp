// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Real processes for tests: spawn, capture, kill, wait for conditions (never sleep-and-hope).
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pushsync::test {

// PUSHSYNC_SOURCE_DIR / PUSHSYNC_BINARY_DIR of the build, as paths.
std::filesystem::path source_dir();
std::filesystem::path binary_dir();

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
// Mode 0777 so nginx workers running as nobody can write inside.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

struct CommandResult {
    int exit_code = -1;  // 128+signal when killed by a signal
    std::string out;
    std::string err;
};

// Runs argv to completion (PATH lookup), feeding `input` on stdin; captures stdout and stderr.
CommandResult run(const std::vector<std::string>& argv, std::string_view input = {},
                  const std::map<std::string, std::string>& extra_env = {});

// A child process running in the background. stdout and stderr go to `log_file` (appended) or
// /dev/null. The destructor SIGKILLs it if it still runs and reaps it.
class Process {
public:
    Process() = default;
    static Process spawn(const std::vector<std::string>& argv, const std::filesystem::path& log_file = {},
                         const std::map<std::string, std::string>& extra_env = {});
    // A process that became this one's child by being orphaned under it (PR_SET_CHILD_SUBREAPER),
    // such as a daemonized nginx master.
    static Process adopt(pid_t pid) noexcept;
    Process(Process&& other) noexcept;
    Process& operator=(Process&& other) noexcept;
    ~Process();

    pid_t pid() const noexcept { return pid_; }
    bool running();                                    // reaps it if it has exited
    void signal(int sig) const;
    // Waits for exit up to `timeout`; returns the exit code (128+signal), or -1 on timeout.
    int wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    int kill_and_wait(int sig = 9);

private:
    pid_t pid_ = -1;
    int status_ = -1;
};

// Polls `condition` every `interval` until it holds (true) or `timeout` passes (false).
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                std::chrono::milliseconds interval = std::chrono::milliseconds(5));

// A TCP port on 127.0.0.1 that nobody listens on right now.
int free_tcp_port();
// True once something accepts connections on 127.0.0.1:port.
bool wait_for_port(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

std::string read_file(const std::filesystem::path& path);  // "" when missing
void write_file(const std::filesystem::path& path, std::string_view content);

}  // namespace pushsync::test
