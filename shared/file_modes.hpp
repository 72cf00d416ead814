// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The modes of what pushsync creates on disk, set explicitly whatever the umask (nginx's daemon
// runs with umask 0): docs/architecture.md, "Trust and ownership". Files 0660, folders setgid 2770,
// and nothing used if others may write it.
#include <sys/types.h>

#include <optional>
#include <string>

namespace pushsync::file_modes {

inline constexpr mode_t kFile = 0660;
inline constexpr mode_t kFolder = 02770;

// "0660", "2770": the permission bits (with setuid/setgid/sticky) in octal.
std::string octal(mode_t mode);

// Creates the folder `path` and any missing parents, each with mode kFolder whatever the umask.
// Folders that exist are left as they are. Throws std::system_error naming the path.
void create_folders(const std::string& path);

// Creates the empty file `path` with mode kFile whatever the umask, unless it exists. Throws
// std::system_error naming the path.
void create_file(const std::string& path);

// Both appear under their name with their final mode: each is made under a temporary name beside
// it, given its mode, then moved into place unless someone else's is there first. Different users
// of the group (nginx's workers, the sender) create the store at once; a folder or file first made
// with the umask's narrower mode and chmod-ed afterwards would shut the other out meanwhile.

// Why `path` must not be used: "writable by others (mode 0666), … (chmod o-rwx PATH)", or nullopt
// when others may not write it (or it does not exist: the opener reports that itself).
std::optional<std::string> writable_by_others(const std::string& path);
// The same for an open file.
std::optional<std::string> writable_by_others(int fd, const std::string& path);

}  // namespace pushsync::file_modes
