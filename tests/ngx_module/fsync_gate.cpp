// SPDX-License-Identifier: BSD-2-Clause
// Preloaded into nginx (LD_PRELOAD) by the durability tests: holds each fdatasync of an LMDB data
// file until the test releases it, and can fail it with EIO, so a test sees what the worker does
// between a commit and its sync. A slow or failing disk cannot be made otherwise without root.
//   PUSHSYNC_FSYNC_GATE=DIR, gating once DIR/armed exists (nginx starts and opens its store at
//   full speed before): the n-th gated fdatasync of the process (n from 1) creates DIR/arrived-n
//   and waits for DIR/release-n, whose content "ok" runs the real fdatasync and "eio" fails it, or
//   until DIR/armed is gone.
// Counted per process: the tests run one worker.
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

namespace {

using FdatasyncFn = int (*)(int);

std::atomic<unsigned> gated{0};  // the process's gated calls so far: the test's view of the disk

bool is_lmdb_data_file(int fd) {
    char link[4096];
    const std::string proc = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(proc.c_str(), link, sizeof link);
    constexpr std::string_view data = "/data.mdb";
    return n >= static_cast<ssize_t>(data.size()) && std::string_view(link, static_cast<std::size_t>(n)).ends_with(data);
}

bool exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
}

}  // namespace

extern "C" int fdatasync(int fd) {
    static const auto real = reinterpret_cast<FdatasyncFn>(::dlsym(RTLD_NEXT, "fdatasync"));
    const char* dir = std::getenv("PUSHSYNC_FSYNC_GATE");
    if (dir == nullptr || !exists(std::string(dir) + "/armed") || !is_lmdb_data_file(fd)) return real(fd);
    const std::string n = std::to_string(++gated);
    std::ofstream(std::string(dir) + "/arrived-" + n).put('\n');
    const std::string release = std::string(dir) + "/release-" + n;
    while (!exists(release)) {
        if (!exists(std::string(dir) + "/armed")) return real(fd);  // the test gave up: let nginx stop
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::string verdict;
    std::ifstream(release) >> verdict;
    if (verdict == "eio") {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
