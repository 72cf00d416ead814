// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// `pushsyncctl check`'s file modes: the store's folder and files and the queue file, each with its
// mode, and a problem for each that others may read or write (docs/architecture.md, "Trust and
// ownership": nothing of pushsync is readable or writable by others).
#include <string>
#include <vector>

#include "shared/config/config.hpp"

namespace pushsync::cli {

struct FileMode {
    std::string path;
    std::string mode;  // "0660", "2770"; "" when the file does not exist
};

std::vector<FileMode> file_modes_of(const Config& config);
// One line per file others have any permission on: "PATH: mode 0666 lets others …; chmod o-rwx PATH".
std::vector<std::string> mode_problems(const std::vector<FileMode>& modes);

}  // namespace pushsync::cli
