// SPDX-License-Identifier: BSD-2-Clause
#include "shared/file_modes.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

namespace pushsync::file_modes {
namespace {

std::optional<std::string> judge(const struct stat& st, const std::string& path) {
    if ((st.st_mode & S_IWOTH) == 0) return std::nullopt;
    return "writable by others (mode " + octal(st.st_mode) + "), so any local user could forge or break it; refused "
           "(chmod o-rwx " + path + ")";
}

[[noreturn]] void fail(int err, const std::string& what) { throw std::system_error(err, std::generic_category(), what); }

// A name beside `path` nobody else uses at this moment (pid and a clock reading; the creating call
// is exclusive and a clash is retried).
std::string temporary_name(const std::string& path, int attempt) {
    return path + ".tmp." + std::to_string(::getpid()) + "." +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "." + std::to_string(attempt);
}

// `make(name)` creates `name` exclusively (false with errno on failure); retried on a clash.
template <typename Make>
std::string create_temporary(const std::string& path, Make make) {
    for (int attempt = 0;; ++attempt) {
        std::string name = temporary_name(path, attempt);
        if (make(name)) return name;
        if (errno != EEXIST || attempt > 100) fail(errno, "create " + name);
    }
}

// Removes a temporary folder or file on every exit unless it was moved into place.
struct Leftover {
    std::string path;
    bool folder;
    Leftover(std::string made, bool is_folder) : path(std::move(made)), folder(is_folder) {}
    Leftover(const Leftover&) = delete;
    Leftover& operator=(const Leftover&) = delete;
    ~Leftover() {
        if (path.empty()) return;
        if (folder)
            ::rmdir(path.c_str());
        else
            ::unlink(path.c_str());
    }
};

bool is_folder(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Creates the folder `path` with mode kFolder, or finds it there.
void create_folder(const std::string& path) {
    if (is_folder(path)) return;
    Leftover fresh{create_temporary(path, [](const std::string& name) { return ::mkdir(name.c_str(), kFolder) == 0; }),
                   true};
    if (::chmod(fresh.path.c_str(), kFolder) != 0) fail(errno, "chmod " + fresh.path);
    // RENAME_NOREPLACE: a plain rename would replace a folder someone else made (empty so far).
    if (::renameat2(AT_FDCWD, fresh.path.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) {
        fresh.path.clear();
        return;
    }
    const int err = errno;
    if (err == EEXIST && is_folder(path)) return;  // someone else's came first
    fail(err, "mkdir " + path);
}

}  // namespace

std::string octal(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

void create_folders(const std::string& path) {
    namespace fs = std::filesystem;
    const fs::path target = fs::path(path).lexically_normal();
    fs::path so_far;
    for (const auto& part : target) {
        so_far /= part;
        if (part.empty() || part == "/" || part == "." || part == "..") continue;
        create_folder(so_far.string());
    }
}

void create_file(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) return;
    Leftover fresh{create_temporary(path,
                                    [](const std::string& name) {
                                        const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFile);
                                        if (fd < 0) return false;
                                        const bool moded = ::fchmod(fd, kFile) == 0;
                                        const int err = errno;
                                        ::close(fd);
                                        errno = err;
                                        if (!moded) ::unlink(name.c_str());
                                        return moded;
                                    }),
                   false};
    // link() never replaces: if someone else's file came first, theirs stays.
    if (::link(fresh.path.c_str(), path.c_str()) != 0 && errno != EEXIST) fail(errno, "create " + path);
}

std::optional<std::string> writable_by_others(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return judge(st, path);
}

std::optional<std::string> writable_by_others(int fd, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return std::nullopt;
    return judge(st, path);
}

}  // namespace pushsync::file_modes
