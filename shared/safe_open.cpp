// SPDX-License-Identifier: BSD-2-Clause
#include "shared/safe_open.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

namespace pushsync::safe_open {
namespace {

std::string user_name(uid_t uid) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buffer(4096);
    if (::getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) == 0 && found) return pw.pw_name;
    return std::to_string(uid);
}

std::string group_name(gid_t gid) {
    struct group gr {};
    struct group* found = nullptr;
    std::vector<char> buffer(4096);
    if (::getgrgid_r(gid, &gr, buffer.data(), buffer.size(), &found) == 0 && found) return gr.gr_name;
    return std::to_string(gid);
}

const char* kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a folder";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    return "not a regular file";
}

// 16 hex digits from the kernel's random source: a name nobody can plant in advance.
std::string random_suffix() {
    unsigned char bytes[8];
    std::size_t got = 0;
    while (got < sizeof bytes) {
        const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail_system(errno, "/dev/urandom", "getrandom");
        got += static_cast<std::size_t>(n);
    }
    char text[17];
    for (std::size_t i = 0; i < sizeof bytes; ++i) std::snprintf(text + 2 * i, 3, "%02x", bytes[i]);
    return text;
}

[[noreturn]] void refuse_symlink(const Folder& folder, std::string_view name) {
    const std::string path = folder.path_of(name);
    char target[4096];
    const ssize_t n = ::readlinkat(folder.fd.get(), std::string(name).c_str(), target, sizeof target - 1);
    const std::string to = n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string("?");
    throw UnsafeFile(Problem::symlink, 0, path,
                     "a symbolic link (to " + to + "), which pushsync never follows in its folders; refused "
                     "(check who planted it, then remove it: rm " + path + ")");
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.release();
    }
    return *this;
}

Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

UnsafeFile::UnsafeFile(Problem problem, int error, std::string path, std::string text)
    : std::runtime_error(path + ": " + text), problem_(problem), error_(error), path_(std::move(path)),
      text_(std::move(text)) {}

void fail_system(int err, const std::string& path, std::string_view doing) {
    throw UnsafeFile(Problem::system, err, path, std::string(doing) + ": " + std::strerror(err));
}

std::string Folder::path_of(std::string_view name) const {
    std::string out = path;
    if (out.empty() || out.back() != '/') out += '/';
    out += name;
    return out;
}

Folder open_folder(const std::string& path) {
    Folder folder;
    folder.path = path;
    folder.fd = Fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (folder.fd.get() < 0) {
        const int err = errno;
        if (err == ENOTDIR) {
            struct stat st {};
            if (::stat(path.c_str(), &st) == 0)
                throw UnsafeFile(Problem::not_folder, 0, path, std::string(kind_of(st.st_mode)) +
                                                                   " where a folder belongs; refused (move it away: mv " +
                                                                   path + " " + path + ".aside)");
        }
        fail_system(err, path, "cannot open the folder");
    }
    if (::fstat(folder.fd.get(), &folder.st) != 0) fail_system(errno, path, "fstat");
    return folder;
}

Place place_of(const std::string& path) {
    const std::filesystem::path p(path);
    std::string parent = p.parent_path().string();
    if (parent.empty()) parent = ".";
    return Place{open_folder(parent), p.filename().string()};
}

void judge(const Folder& folder, std::string_view name, const struct stat& st) {
    const std::string path = folder.path_of(name);
    if (!S_ISREG(st.st_mode))
        throw UnsafeFile(Problem::not_regular, 0, path,
                         std::string(kind_of(st.st_mode)) + " where pushsync keeps a file; refused (move it away: mv " +
                             path + " " + path + ".aside)");
    if (st.st_nlink != 1)
        throw UnsafeFile(Problem::hard_link, 0, path,
                         "has " + std::to_string(st.st_nlink) +
                             " hard links, so writing it would write the same file under another name; refused (find "
                             "the other: find / -xdev -samefile " + path + "; remove the name that is not pushsync's)");
    if (st.st_uid != ::geteuid() && st.st_uid != folder.st.st_uid && st.st_gid != folder.st.st_gid)
        throw UnsafeFile(Problem::foreign_owner, 0, path,
                         "owned by " + user_name(st.st_uid) + ":" + group_name(st.st_gid) + ", neither this user (" +
                             user_name(::geteuid()) + "), the folder's owner nor its group; refused (once you know "
                             "what it is: chown " + user_name(folder.st.st_uid) + ":" + group_name(folder.st.st_gid) +
                             " " + path + ")");
}

std::optional<Opened> open_existing(const Folder& folder, std::string_view name, int access) {
    const std::string n(name);
    // O_NONBLOCK: a FIFO planted under the name must not hang the opener before fstat refuses it.
    Fd fd(::openat(folder.fd.get(), n.c_str(), access | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) {
        const int err = errno;
        if (err == ENOENT) return std::nullopt;
        struct stat st {};
        if (err == ELOOP && ::fstatat(folder.fd.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            refuse_symlink(folder, name);
        fail_system(err, folder.path_of(name), "cannot open it");
    }
    // Regular files ignore O_NONBLOCK, but the descriptor may be handed on (LMDB, mmap): clear it.
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    Opened out{std::move(fd), {}};
    if (::fstat(out.fd.get(), &out.st) != 0) fail_system(errno, folder.path_of(name), "fstat");
    judge(folder, name, out.st);
    return out;
}

TempFile::TempFile(const Folder& folder, std::string_view final_name, mode_t mode) : folder_(&folder) {
    for (int attempt = 0;; ++attempt) {
        std::string name = std::string(final_name) + ".tmp-" + random_suffix();
        fd_ = Fd(::openat(folder.fd.get(), name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                          mode));
        if (fd_.get() >= 0) {
            name_ = std::move(name);
            break;
        }
        if (errno != EEXIST || attempt >= 100) fail_system(errno, folder.path_of(name), "cannot create it");
    }
    // Whatever the umask: nginx's daemon runs with 0, the CLI with 077.
    if (::fchmod(fd_.get(), mode) != 0) fail_system(errno, folder.path_of(name_), "cannot set its mode");
}

TempFile::~TempFile() {
    if (!name_.empty()) ::unlinkat(folder_->fd.get(), name_.c_str(), 0);
}

bool TempFile::place_if_absent(std::string_view name) {
    const std::string n(name);
    if (::renameat2(folder_->fd.get(), name_.c_str(), folder_->fd.get(), n.c_str(), RENAME_NOREPLACE) == 0) {
        name_.clear();
        return true;
    }
    if (errno == EEXIST) return false;
    fail_system(errno, folder_->path_of(name), "cannot create it");
}

void TempFile::place_over(std::string_view name) {
    const std::string n(name);
    if (::renameat(folder_->fd.get(), name_.c_str(), folder_->fd.get(), n.c_str()) != 0)
        fail_system(errno, folder_->path_of(name), "cannot put it in place");
    name_.clear();
}

}  // namespace pushsync::safe_open
