// SPDX-License-Identifier: BSD-2-Clause
#include "cli/commands/credentials_check.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>

#include "sender/apns/jwt.hpp"
#include "sender/fcm/auth/service_account.hpp"
#include "sender/net/tls_context.hpp"
#include "shared/device.hpp"

namespace pushsync::cli {
namespace {

using sender::Es256Key;
using sender::TlsClientOptions;
using sender::TlsContext;
using sender::TlsFileError;

constexpr std::int64_t warn_before_s = 30 * 86400;  // the sender warns from then on, too

// The sender's user: `pushsync` (the package's) when it exists, else whoever runs pushsyncctl.
struct Reader {
    std::string name;
    uid_t uid = 0;
    std::vector<gid_t> groups;
};

Reader sender_user() {
    Reader reader;
    std::vector<char> buffer(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwnam_r("pushsync", &pw, buffer.data(), buffer.size(), &found) == 0 && found) {
        reader.name = "pushsync";
        reader.uid = pw.pw_uid;
        int count = 64;
        reader.groups.resize(static_cast<std::size_t>(count));
        if (getgrouplist("pushsync", pw.pw_gid, reader.groups.data(), &count) < 0) {
            reader.groups.resize(static_cast<std::size_t>(count));
            getgrouplist("pushsync", pw.pw_gid, reader.groups.data(), &count);
        }
        reader.groups.resize(static_cast<std::size_t>(std::max(count, 0)));
        return reader;
    }
    reader.uid = geteuid();
    reader.name = getpwuid_r(reader.uid, &pw, buffer.data(), buffer.size(), &found) == 0 && found
                      ? std::string(pw.pw_name)
                      : std::to_string(reader.uid);
    reader.groups.push_back(getegid());
    const int n = getgroups(0, nullptr);
    if (n > 0) {
        std::vector<gid_t> more(static_cast<std::size_t>(n));
        if (getgroups(n, more.data()) == n) reader.groups.insert(reader.groups.end(), more.begin(), more.end());
    }
    return reader;
}

// Whether `reader` has `want` (S_IROTH-style bit: 4 read, 1 search) on a file with `st`.
bool permits(const Reader& reader, const struct stat& st, unsigned want) {
    if (reader.uid == 0) return true;
    if (st.st_uid == reader.uid) return (st.st_mode >> 6) & want;
    for (gid_t gid : reader.groups) {
        if (st.st_gid == gid) return (st.st_mode >> 3) & want;
    }
    return st.st_mode & want;
}

std::string mode_text(const struct stat& st) {
    char text[64];
    std::snprintf(text, sizeof text, "mode %04o owner %u:%u", static_cast<unsigned>(st.st_mode & 07777),
                  static_cast<unsigned>(st.st_uid), static_cast<unsigned>(st.st_gid));
    return text;
}

// Empty when `reader` can open the file for reading; else why not.
std::string unreadable_by(const Reader& reader, const std::string& path) {
    const std::filesystem::path file = std::filesystem::absolute(path);
    std::filesystem::path dir;
    for (auto it = file.begin(); it != file.end(); ++it) {
        if (std::next(it) == file.end()) break;
        dir /= *it;
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0) return dir.string() + ": " + std::strerror(errno);
        if (!permits(reader, st, 1)) {
            return "directory " + dir.string() + " (" + mode_text(st) + ") cannot be searched by " + reader.name;
        }
    }
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return std::strerror(errno);
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    if (!permits(reader, st, 4)) return "not readable by " + reader.name + " (" + mode_text(st) + ")";
    if (st.st_size == 0) return "empty file";
    return {};
}

// Empty when the secret at `path` is the sender's alone: owned by its user and readable by no
// one else (0400 or 0600). A key that the group can read is a key nginx's workers (members of
// the group pushsync) can read, so a hole in them would hand it out.
std::string exposed_secret(const Reader& reader, const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};  // unreadable_by has said why
    std::string why;
    if (st.st_mode & 077) why = "readable or writable by its group or others";
    if (reader.uid != 0 && st.st_uid != reader.uid) {
        why += (why.empty() ? "" : ", and ") + std::string("not owned by ") + reader.name;
    }
    if (why.empty()) return {};
    return why + " (" + mode_text(st) + "): chown " + reader.name + " and chmod 0400 it";
}

// The sender's own check of a TLS file (sender/net/tls_context.hpp): empty when TlsContext
// takes `options`, else which of its files failed and the sender's words for it.
struct TlsProblem {
    std::string file;
    std::string what;
};
TlsProblem tls_problem(const TlsClientOptions& options) {
    try {
        TlsContext context(options);
    } catch (const TlsFileError& e) {
        return {e.file(), e.what()};
    } catch (const std::exception& e) {
        return {options.ca_file.empty() ? options.cert_file : options.ca_file, e.what()};
    }
    return {};
}

}  // namespace

CredentialReport check_credentials(const Config& config, std::int64_t now_unix_s) {
    CredentialReport report;
    const Reader reader = sender_user();
    report.user = reader.name;
    // The sender's own messages name the file themselves; ours name it after the key.
    const auto at = [&](int line, const std::string& key) {
        return config.file + ":" + std::to_string(line) + ": " + key + ": ";
    };
    const auto where = [&](int line, const std::string& key, const std::string& path) {
        return at(line, key) + path + ": ";
    };
    // Readable by the sender's user, then the contents. Returns false when it cannot go on.
    const auto readable = [&](int line, const std::string& key, const std::string& path) {
        const std::string why = unreadable_by(reader, path);
        if (!why.empty()) report.problems.push_back(where(line, key, path) + why);
        return why.empty();
    };
    if (!config.apns.ca_file.empty() && readable(config.apns.ca_file_line, "apns.ca_file", config.apns.ca_file)) {
        TlsClientOptions options;
        options.ca_file = config.apns.ca_file;
        if (const TlsProblem problem = tls_problem(options); !problem.what.empty()) {
            report.problems.push_back(at(config.apns.ca_file_line, "apns.ca_file") + problem.what);
        }
    }
    const bool any_fcm = std::any_of(config.apps.begin(), config.apps.end(),
                                     [](const AppConfig& app) { return app.platform == Platform::fcm; });
    if (any_fcm && !config.fcm.ca_file.empty() && readable(config.fcm.ca_file_line, "fcm.ca_file", config.fcm.ca_file)) {
        TlsClientOptions options;
        options.ca_file = config.fcm.ca_file;
        if (const TlsProblem problem = tls_problem(options); !problem.what.empty()) {
            report.problems.push_back(at(config.fcm.ca_file_line, "fcm.ca_file") + problem.what);
        }
    }
    for (std::size_t i = 0; i < config.apps.size(); ++i) {
        const AppConfig& app = config.apps[i];
        const AppAuth& auth = app.auth;
        const std::string prefix = "apps[" + std::to_string(i) + "].auth.";
        if (auth.type == AuthType::service_account) {
            // Google's JSON key: readable by the sender's user, its alone (0400), and as the sender
            // parses it (type, project_id, client_email, an RSA private key, an https token_uri).
            const int line = auth.file_line > 0 ? auth.file_line : app.line;
            if (!readable(line, prefix + "file", auth.file)) continue;
            if (const std::string why = exposed_secret(reader, auth.file); !why.empty()) {
                report.warnings.push_back(where(line, prefix + "file", auth.file) + why);
            }
            try {
                const sender::fcm::ServiceAccount account = sender::fcm::load_service_account(auth.file);
                report.service_accounts.push_back({app.bundle_id, auth.file, account.project_id, account.client_email});
            } catch (const std::exception& e) {
                report.problems.push_back(at(line, prefix + "file") + e.what());
            }
            continue;
        }
        const int key_line = auth.key_file_line > 0 ? auth.key_file_line : app.line;
        const int cert_line = auth.cert_file_line > 0 ? auth.cert_file_line : app.line;
        const bool key_readable = readable(key_line, prefix + "key_file", auth.key_file);
        if (key_readable) {
            if (const std::string why = exposed_secret(reader, auth.key_file); !why.empty()) {
                report.warnings.push_back(where(key_line, prefix + "key_file", auth.key_file) + why);
            }
        }
        if (auth.type != AuthType::certificate) {
            if (!key_readable) continue;
            try {
                Es256Key::from_pem_file(auth.key_file);  // as the sender reads a token key
            } catch (const std::exception& e) {
                report.problems.push_back(at(key_line, prefix + "key_file") + e.what());
            }
            continue;
        }
        if (!readable(cert_line, prefix + "cert_file", auth.cert_file)) continue;
        if (key_readable) {
            // The client certificate, its key and their match, as the sender's TLS context loads them.
            TlsClientOptions options;
            options.cert_file = auth.cert_file;
            options.key_file = auth.key_file;
            const TlsProblem problem = tls_problem(options);
            if (problem.file == auth.cert_file) {
                report.problems.push_back(at(cert_line, prefix + "cert_file") + problem.what);
                continue;
            }
            if (!problem.what.empty()) report.problems.push_back(at(key_line, prefix + "key_file") + problem.what);
        }
        std::int64_t not_after = 0;
        try {
            not_after = sender::certificate_not_after(auth.cert_file);
        } catch (const std::exception& e) {
            report.problems.push_back(at(cert_line, prefix + "cert_file") + e.what());
            continue;
        }
        report.certificates.push_back(CertificateExpiry{app.bundle_id, auth.cert_file, not_after});
        const std::string what = where(cert_line, prefix + "cert_file", auth.cert_file);
        if (not_after <= now_unix_s) {
            report.problems.push_back(what + "expired on " + format_rfc3339(not_after * 1000));
        } else if (not_after - now_unix_s < warn_before_s) {
            report.warnings.push_back(what + "expires on " + format_rfc3339(not_after * 1000) + " (in " +
                                      std::to_string((not_after - now_unix_s) / 86400) + " days)");
        }
    }
    return report;
}

}  // namespace pushsync::cli
