// SPDX-License-Identifier: BSD-2-Clause
#include "sender/daemon/secrets.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace pushsync::sender {

namespace {

// Empty when readable, else strerror of why not.
std::string unreadable_reason(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::strerror(errno);
    char byte;
    const ssize_t n = ::read(fd, &byte, 1);
    const int err = errno;
    ::close(fd);
    if (n < 0) return std::strerror(err);
    if (n == 0) return "empty file";
    return {};
}

void check(const Config& config, std::size_t index, const char* key, const std::string& path, int line) {
    const std::string reason = unreadable_reason(path);
    if (reason.empty()) return;
    throw ConfigError(config.file + ":" + std::to_string(line > 0 ? line : config.apps[index].line) + ": apps[" +
                      std::to_string(index) + "].auth." + key + ": cannot read " + path + " (" + reason + ")");
}

}  // namespace

void check_secret_files(const Config& config) {
    for (std::size_t i = 0; i < config.apps.size(); ++i) {
        const AppAuth& auth = config.apps[i].auth;
        if (auth.type == AuthType::service_account) {
            check(config, i, "file", auth.file, auth.file_line);
            continue;
        }
        if (auth.type == AuthType::certificate) check(config, i, "cert_file", auth.cert_file, auth.cert_file_line);
        check(config, i, "key_file", auth.key_file, auth.key_file_line);
    }
}

}  // namespace pushsync::sender
