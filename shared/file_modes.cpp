#include "shared/file_modes.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

namespace pushsync::file_modes {
namespace {

std::optional<std::string> judge(const struct stat& st, const std::string& path) {
    if ((st.st_mode & S_IWOTH) == 0) return std::nullopt;
    return "writable by others (mode " + octal(st.st_mode) + "), so any local user could forge or break it; refused "
           "(chmod o-rwx " + path + ")";
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
        if (::mkdir(so_far.c_str(), kFolder) == 0) {
            if (::chmod(so_far.c_str(), kFolder) != 0)
                throw std::system_error(errno, std::generic_category(), "chmod " + so_far.string());
            continue;
        }
        const int err = errno;
        struct stat st {};
        if (err == EEXIST && ::stat(so_far.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
        throw std::system_error(err, std::generic_category(), "mkdir " + so_far.string());
    }
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
