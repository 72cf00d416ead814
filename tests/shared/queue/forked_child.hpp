// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A forked child process running a function of the test, for queue tests that need producers and
// consumers in separate processes (the queue is shared between processes, not threads). The
// destructor SIGKILLs and reaps it if it still runs.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <stdexcept>

#include "tests/support/process.hpp"

namespace pushsync::test {

class ForkedChild {
public:
    // Runs body() in a child; its return value is the exit code (an exception: 99).
    static ForkedChild start(const std::function<int()>& body) {
        std::fflush(nullptr);  // or the child would write the parent's buffered output again
        const pid_t pid = ::fork();
        if (pid < 0) throw std::runtime_error("fork failed");
        if (pid == 0) {
            int code = 99;
            try {
                code = body();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "child %d: %s\n", static_cast<int>(::getpid()), e.what());
            } catch (...) {
            }
            std::fflush(nullptr);
            ::_exit(code);  // never back into the test runner
        }
        ForkedChild child;
        child.pid_ = pid;
        return child;
    }

    ForkedChild() = default;
    ForkedChild(ForkedChild&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
    ForkedChild& operator=(ForkedChild&& o) noexcept {
        if (this != &o) {
            kill_and_reap();
            pid_ = o.pid_;
            o.pid_ = -1;
        }
        return *this;
    }
    ForkedChild(const ForkedChild&) = delete;
    ForkedChild& operator=(const ForkedChild&) = delete;
    ~ForkedChild() { kill_and_reap(); }

    pid_t pid() const noexcept { return pid_; }
    void signal(int sig) const { ::kill(pid_, sig); }

    // Waits for the exit: the exit code, 128+signal, or -1 on timeout.
    int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        int result = -1;
        wait_until(
            [&] {
                int status = 0;
                if (pid_ < 0 || ::waitpid(pid_, &status, WNOHANG) != pid_) return false;
                pid_ = -1;
                result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                return true;
            },
            timeout, std::chrono::milliseconds(1));
        return result;
    }

    // Waits until the child stops (SIGSTOP it raised itself): true when it did.
    bool wait_stopped(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        return wait_until(
            [&] {
                int status = 0;
                return pid_ >= 0 && ::waitpid(pid_, &status, WNOHANG | WUNTRACED) == pid_ && WIFSTOPPED(status);
            },
            timeout, std::chrono::milliseconds(1));
    }

    // SIGKILL and reap: after this the pid is gone for good (not a zombie).
    int kill_and_reap() {
        if (pid_ < 0) return -1;
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

private:
    pid_t pid_ = -1;
};

}  // namespace pushsync::test
