#include "cli/commands/credentials_check.hpp"

#include <grp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>

#include "shared/device.hpp"

namespace pushsync::cli {
namespace {

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

std::string openssl_error() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "no PEM data";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

struct FileFree {
    void operator()(FILE* f) const noexcept { std::fclose(f); }
};
struct KeyFree {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct CertFree {
    void operator()(X509* c) const noexcept { X509_free(c); }
};

// Parses as whoever runs pushsyncctl; "" + key when it cannot even open the file itself.
std::unique_ptr<EVP_PKEY, KeyFree> read_key(const std::string& path, std::string& problem) {
    std::unique_ptr<FILE, FileFree> f(std::fopen(path.c_str(), "rb"));
    if (!f) {
        problem = std::string("cannot check its contents: ") + std::strerror(errno);
        return nullptr;
    }
    std::unique_ptr<EVP_PKEY, KeyFree> key(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr));
    if (!key) problem = "not a PEM private key (" + openssl_error() + ")";
    return key;
}

std::unique_ptr<X509, CertFree> read_certificate(const std::string& path, std::string& problem) {
    std::unique_ptr<FILE, FileFree> f(std::fopen(path.c_str(), "rb"));
    if (!f) {
        problem = std::string("cannot check its contents: ") + std::strerror(errno);
        return nullptr;
    }
    std::unique_ptr<X509, CertFree> cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
    if (!cert) problem = "not a PEM certificate (" + openssl_error() + ")";
    return cert;
}

bool is_p256(EVP_PKEY* key) {
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
    char group[64] = {};
    std::size_t length = 0;
    return EVP_PKEY_get_group_name(key, group, sizeof group, &length) == 1 && std::string(group) == "prime256v1";
}


}  // namespace

CredentialReport check_credentials(const Config& config, std::int64_t now_unix_s) {
    CredentialReport report;
    const Reader reader = sender_user();
    report.user = reader.name;
    const auto where = [&](int line, const std::string& key, const std::string& path) {
        return config.file + ":" + std::to_string(line) + ": " + key + ": " + path + ": ";
    };
    // Readable by the sender's user, then the contents. Returns false when it cannot go on.
    const auto readable = [&](int line, const std::string& key, const std::string& path) {
        const std::string why = unreadable_by(reader, path);
        if (!why.empty()) report.problems.push_back(where(line, key, path) + why);
        return why.empty();
    };
    if (!config.apns.ca_file.empty() && readable(config.apns.ca_file_line, "apns.ca_file", config.apns.ca_file)) {
        std::string problem;
        if (!read_certificate(config.apns.ca_file, problem)) {
            report.problems.push_back(where(config.apns.ca_file_line, "apns.ca_file", config.apns.ca_file) + problem);
        }
    }
    for (std::size_t i = 0; i < config.apps.size(); ++i) {
        const AppConfig& app = config.apps[i];
        const AppAuth& auth = app.auth;
        const std::string prefix = "apps[" + std::to_string(i) + "].auth.";
        const int key_line = auth.key_file_line > 0 ? auth.key_file_line : app.line;
        const int cert_line = auth.cert_file_line > 0 ? auth.cert_file_line : app.line;
        std::unique_ptr<EVP_PKEY, KeyFree> key;
        if (readable(key_line, prefix + "key_file", auth.key_file)) {
            std::string problem;
            key = read_key(auth.key_file, problem);
            if (key && auth.type == AuthType::token && !is_p256(key.get())) {
                problem = "not a P-256 key (APNs token keys are ES256 .p8 files)";
            }
            if (!problem.empty()) report.problems.push_back(where(key_line, prefix + "key_file", auth.key_file) + problem);
        }
        if (auth.type != AuthType::certificate || !readable(cert_line, prefix + "cert_file", auth.cert_file)) continue;
        std::string problem;
        const auto cert = read_certificate(auth.cert_file, problem);
        if (!cert) {
            report.problems.push_back(where(cert_line, prefix + "cert_file", auth.cert_file) + problem);
            continue;
        }
        if (key && X509_check_private_key(cert.get(), key.get()) != 1) {
            ERR_clear_error();
            report.problems.push_back(where(key_line, prefix + "key_file", auth.key_file) +
                                      "does not match the certificate " + auth.cert_file);
        }
        std::tm tm{};
        if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) {
            report.problems.push_back(where(cert_line, prefix + "cert_file", auth.cert_file) + "unreadable notAfter");
            continue;
        }
        const std::int64_t not_after = timegm(&tm);
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
