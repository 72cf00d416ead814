// SPDX-License-Identifier: BSD-2-Clause
#include "sender/daemon/startup_warnings.hpp"

#include <sys/stat.h>

#include <set>
#include <string>
#include <string_view>

#include "shared/file_modes.hpp"
#include "shared/log_escape.hpp"

namespace pushsync::sender {
namespace {

// "https://host[:port][/…]" -> "host" (lowercase); "" when it is not that shape (config.cpp
// has refused it already).
std::string host_of(std::string_view url) {
    constexpr std::string_view scheme = "https://";
    if (!url.starts_with(scheme)) return {};
    url.remove_prefix(scheme.size());
    std::string host(url.substr(0, url.find_first_of(":/")));
    for (char& c : host)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (host.ends_with('.')) host.pop_back();
    return host;
}

bool is_apple(std::string_view url) {
    const std::string host = host_of(url);
    return host == "api.push.apple.com" || host == "api.sandbox.push.apple.com";
}

}  // namespace

void warn_about_setup(const Config& config, Logger& log) {
    std::set<std::string> seen;
    for (const AppConfig& app : config.apps) {
        // A service account file is a secret like a .p8: the same rule, under its own key name.
        const bool account = app.auth.type == AuthType::service_account;
        const std::string& key = account ? app.auth.file : app.auth.key_file;
        if (key.empty() || !seen.insert(key).second) continue;
        struct stat st {};
        if (::stat(key.c_str(), &st) != 0) continue;  // secrets.cpp reports an unreadable key
        if ((st.st_mode & (S_IRGRP | S_IROTH)) == 0) continue;
        log.warn("secrets.key_file_readable",
                 "bundle_id=" + log_value(app.bundle_id) + (account ? " file=" : " key_file=") + log_value(key) + " mode=" +
                     file_modes::octal(st.st_mode) +
                     " why=\"readable by group or others: only the sender's user should read its keys (owner pushsync, chmod 0400)\"");
    }
    if (!config.apns.ca_file.empty()) {
        for (const std::string* url : {&config.apns.production, &config.apns.sandbox}) {
            if (!is_apple(*url)) continue;
            log.warn("apns.ca_file_with_apple",
                     "ca_file=" + log_value(config.apns.ca_file) + " endpoint=" + log_value(*url) +
                         " why=\"apns.ca_file adds to the system trust: whoever holds that CA can pose as Apple; "
                         "set it only for a test endpoint\"");
        }
    }
}

}  // namespace pushsync::sender
