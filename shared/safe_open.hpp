// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Opening files inside pushsync's folders (the store, the queue's, a backup's) without trusting
// the names in them. Those folders are 2770, group pushsync: every member of the group (nginx's
// workers among them) can create, rename and replace names there. A name that is a symbolic link,
// or a hard link to a file elsewhere, would make whoever opens it (the sender, an admin's
// pushsyncctl) open a file of the planter's choosing. So every file is opened relative to the
// folder's descriptor (openat), with O_NOFOLLOW|O_CLOEXEC, and what was opened is fstat-ed: a
// regular file, one link, owned as expected (below). Files are created under an unpredictable
// temporary name with O_CREAT|O_EXCL|O_NOFOLLOW and renamed into place, so their name never shows
// a file with the wrong mode and a name planted in advance is never written through.
//
// "Owned as expected": by this process's user, by the folder's owner, or in the folder's group
// (which the setgid folder gives every file a group member makes there; nginx's workers and the
// sender are different users of that group and each opens the other's files).
#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pushsync::safe_open {

// An open file descriptor, closed on destruction.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    ~Fd();
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const noexcept { return fd_; }
    int release() noexcept {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_ = -1;
};

enum class Problem {
    symlink,        // the name is a symbolic link
    hard_link,      // the file has more than one name (st_nlink != 1)
    foreign_owner,  // owned by neither this process's user, the folder's owner nor its group
    not_regular,    // a folder, socket, FIFO, device…
    not_folder,     // open_folder: the path is not a folder
    system,         // the call itself failed (errno(): EACCES, ENOENT, EROFS, ENOSPC…)
};

// Why a file was refused. what() is one line: "PATH: what is wrong; refused (the command that fixes
// it)" — problem() is the same without "PATH: ", for callers that prefix the path their own way.
class UnsafeFile : public std::runtime_error {
public:
    UnsafeFile(Problem problem, int error, std::string path, std::string text);
    Problem problem_kind() const noexcept { return problem_; }
    int error() const noexcept { return error_; }  // errno for Problem::system, else 0
    const std::string& path() const noexcept { return path_; }
    const std::string& problem() const noexcept { return text_; }

private:
    Problem problem_;
    int error_;
    std::string path_;
    std::string text_;
};

// An open folder: the descriptor every name inside it is resolved against.
struct Folder {
    Fd fd;
    std::string path;
    struct stat st {};
    std::string path_of(std::string_view name) const;  // path + "/" + name, for messages
};

// Opens the folder `path` (the configured path itself may be a symlink: it is the admin's, in a
// folder the group cannot write). Some possible errors are:
//   UnsafeFile{system}: ENOENT (absent), EACCES, ENOTDIR (a parent is no folder).
//   UnsafeFile{not_folder}: the path is a file.
Folder open_folder(const std::string& path);

// A file's folder, opened, and its name in it: the way to open a configured file path (the queue
// file, the metrics file) without following a link planted under its name. Throws what
// open_folder throws for the parent ("." when the path has none).
struct Place {
    Folder folder;
    std::string name;
};
Place place_of(const std::string& path);

// Judges what fstat said of `name` in `folder`: throws UnsafeFile{hard_link, foreign_owner,
// not_regular} (see open_existing), returns when it may be used.
void judge(const Folder& folder, std::string_view name, const struct stat& st);

struct Opened {
    Fd fd;
    struct stat st {};
};

// Opens `name` (one path component) in `folder` with `access` (O_RDONLY or O_RDWR, plus flags
// such as O_NONBLOCK), never following a symlink, and judges it. nullopt when it does not exist.
// Some possible errors are:
//   UnsafeFile{symlink}: the name is a symbolic link (the message names where it points).
//   UnsafeFile{hard_link}: the file has another name (st_nlink != 1).
//   UnsafeFile{foreign_owner}: owned by another user, outside the folder's group.
//   UnsafeFile{not_regular}: a folder, FIFO, socket or device.
//   UnsafeFile{system}: EACCES, EROFS (O_RDWR on a read-only file system), EMFILE…
std::optional<Opened> open_existing(const Folder& folder, std::string_view name, int access);

// A new file under an unpredictable name beside where it will go ("NAME.tmp-XXXXXXXXXXXXXXXX",
// 64 random bits), created O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW and given `mode` whatever the umask.
// Unlinked on destruction unless placed. Some possible errors are:
//   UnsafeFile{system}: EACCES, ENOSPC, EDQUOT, EROFS; EEXIST only after 100 clashes.
class TempFile {
public:
    TempFile(const Folder& folder, std::string_view final_name, mode_t mode);
    ~TempFile();
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    int fd() const noexcept { return fd_.get(); }
    const std::string& name() const noexcept { return name_; }

    // Moves it to `name` in its folder unless something is there (renameat2 RENAME_NOREPLACE: the
    // file never has two names). false when a name was there first (that one stays). Some
    // possible errors are: UnsafeFile{system}: EINVAL (a file system without RENAME_NOREPLACE), EXDEV.
    bool place_if_absent(std::string_view name);
    // Moves it to `name`, replacing what is there (a symlink is replaced, never followed).
    // Some possible errors are: UnsafeFile{system}: EISDIR, EACCES.
    void place_over(std::string_view name);

private:
    const Folder* folder_;
    std::string name_;  // empty once placed
    Fd fd_;
};

// The line for a call that failed with `err` on `path`: "PATH: DOING: strerror".
[[noreturn]] void fail_system(int err, const std::string& path, std::string_view doing);

}  // namespace pushsync::safe_open
