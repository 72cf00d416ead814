// SPDX-License-Identifier: BSD-2-Clause
#include "cli/check_modes.hpp"

#include <sys/stat.h>

#include <filesystem>

#include "shared/file_modes.hpp"

namespace pushsync::cli {

std::vector<FileMode> file_modes_of(const Config& config) {
    const std::filesystem::path store(config.store.path);
    std::vector<FileMode> out;
    for (const auto& path : {store, store / "data.mdb", store / "lock.mdb", std::filesystem::path(config.queue.path)}) {
        struct stat st {};
        FileMode m{path.string(), {}};
        // lstat: a link planted in the store's folder (symbolic, or a file with a second name) is
        // not reported by its target's mode; the store's open below refuses it with its own line
        // (shared/safe_open.hpp).
        const bool planted_link = ::lstat(path.c_str(), &st) == 0 &&
                                  (S_ISLNK(st.st_mode) || (S_ISREG(st.st_mode) && st.st_nlink > 1));
        if (!planted_link && st.st_mode != 0) m.mode = file_modes::octal(st.st_mode);
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<std::string> mode_problems(const std::vector<FileMode>& modes) {
    std::vector<std::string> out;
    for (const FileMode& m : modes) {
        if (m.mode.empty() || m.mode.back() == '0') continue;
        out.push_back(m.path + ": mode " + m.mode + " lets others in (nginx and the sender refuse what others may " +
                      "write); chmod o-rwx " + m.path);
    }
    return out;
}

}  // namespace pushsync::cli
