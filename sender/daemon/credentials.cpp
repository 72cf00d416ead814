// SPDX-License-Identifier: BSD-2-Clause
#include "sender/daemon/credentials.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "sender/apns/jwt.hpp"
#include "sender/fcm/auth/service_account.hpp"
#include "sender/net/tls_context.hpp"

namespace pushsync::sender {

namespace {

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path + " (" + std::strerror(errno) + ")");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

std::string sha256_hex(const std::string& bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 failed");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 15]);
    }
    return out;
}

// The first app with these credentials: its entry names the file in errors.
std::size_t owner_of(const Config& config, const AppAuth& auth) {
    for (std::size_t i = 0; i < config.apps.size(); ++i) {
        const AppAuth& a = config.apps[i].auth;
        if (a.type == auth.type && a.key_file == auth.key_file && a.cert_file == auth.cert_file && a.file == auth.file) {
            return i;
        }
    }
    return 0;
}

[[noreturn]] void fail(const Config& config, std::size_t app, const char* key, int line, const std::string& problem) {
    throw ConfigError(config.file + ":" + std::to_string(line > 0 ? line : config.apps.at(app).line) + ": apps[" +
                      std::to_string(app) + "].auth." + key + ": " + problem);
}

[[noreturn]] void fail_tls(const Config& config, std::size_t app, const TlsFileError& e) {
    const AppAuth& auth = config.apps.at(app).auth;
    if (e.file() == config.apns.ca_file) {
        throw ConfigError(config.file + ":" + std::to_string(config.apns.ca_file_line) + ": apns.ca_file: " + e.what());
    }
    if (e.file() == auth.cert_file && auth.type == AuthType::certificate) {
        fail(config, app, "cert_file", auth.cert_file_line, e.what());
    }
    fail(config, app, "key_file", auth.key_file_line, e.what());
}

// A CA file's bytes for the credential digest ("" when none is named); ConfigError naming the key.
std::string ca_file_bytes(const Config& config, const std::string& path, const char* key, int line) {
    if (path.empty()) return {};
    try {
        return file_bytes(path);
    } catch (const std::runtime_error& e) {
        throw ConfigError(config.file + ":" + std::to_string(line) + ": " + key + ": " + e.what());
    }
}

// An fcm connection: the service account file read and checked now (so a broken one is refused at
// start or at a reload with its line, before any push waits on it) and handed to the client, and
// the TLS context of fcm.ca_file. The digest replaces the connection when the bytes changed even
// if the path did not.
void load_fcm(const Config& config, ConnectionConfig& connection, const std::string& ca_bytes) {
    const AppAuth& auth = connection.auth;
    const std::size_t app = owner_of(config, auth);
    std::string account_bytes;
    try {
        account_bytes = fcm::read_service_account_file(auth.file);
        connection.service_account =
            std::make_shared<const fcm::ServiceAccount>(fcm::parse_service_account(account_bytes, auth.file));
    } catch (const fcm::ServiceAccountError& e) {
        fail(config, app, "file", auth.file_line, e.what());
    }
    connection.credential_digest = sha256_hex(account_bytes + '\0' + ca_bytes);
    TlsClientOptions options;
    options.ca_file = connection.ca_file;
    try {
        connection.tls = std::make_shared<const TlsContext>(options);
    } catch (const TlsFileError& e) {
        throw ConfigError(config.file + ":" + std::to_string(config.fcm.ca_file_line) + ": fcm.ca_file: " + e.what());
    }
}

}  // namespace

std::vector<CredentialExpiry> load_credentials(const Config& config, Routes& routes) {
    // One signer per (team, key id, key bytes): the production and sandbox connections of an app
    // share its token, as at start.
    std::map<std::tuple<std::string, std::string, std::string>, std::shared_ptr<JwtCache>> signers;
    const std::string ca_bytes = ca_file_bytes(config, config.apns.ca_file, "apns.ca_file", config.apns.ca_file_line);
    const std::string fcm_ca_bytes = ca_file_bytes(config, config.fcm.ca_file, "fcm.ca_file", config.fcm.ca_file_line);
    for (ConnectionConfig& connection : routes.connections()) {
        if (connection.platform == Platform::fcm) {
            load_fcm(config, connection, fcm_ca_bytes);
            continue;
        }
        const AppAuth& auth = connection.auth;
        const std::size_t app = owner_of(config, auth);
        std::string key_bytes;
        std::string cert_bytes;
        try {
            key_bytes = file_bytes(auth.key_file);
        } catch (const std::runtime_error& e) {
            fail(config, app, "key_file", auth.key_file_line, e.what());
        }
        if (auth.type == AuthType::certificate) {
            try {
                cert_bytes = file_bytes(auth.cert_file);
            } catch (const std::runtime_error& e) {
                fail(config, app, "cert_file", auth.cert_file_line, e.what());
            }
        }
        connection.credential_digest = sha256_hex(key_bytes + '\0' + cert_bytes + '\0' + ca_bytes);
        TlsClientOptions options;
        options.ca_file = connection.ca_file;
        if (auth.type == AuthType::certificate) {
            options.cert_file = auth.cert_file;
            options.key_file = auth.key_file;
        }
        try {
            connection.tls = std::make_shared<const TlsContext>(options);
        } catch (const TlsFileError& e) {
            fail_tls(config, app, e);
        }
        if (auth.type != AuthType::token) continue;
        auto& signer = signers[{auth.team_id, auth.key_id, sha256_hex(key_bytes)}];
        if (!signer) {
            try {
                signer = std::make_shared<JwtCache>(Es256Key::from_pem(key_bytes, auth.key_file), auth.team_id,
                                                    auth.key_id);
            } catch (const std::runtime_error& e) {
                fail(config, app, "key_file", auth.key_file_line, e.what());
            }
        }
        connection.jwt_cache = signer;
    }
    std::vector<CredentialExpiry> expiries;
    for (std::size_t i = 0; i < config.apps.size(); ++i) {
        const AppAuth& auth = config.apps[i].auth;
        if (auth.type != AuthType::certificate) continue;
        try {
            expiries.push_back(CredentialExpiry{config.apps[i].bundle_id, auth.cert_file,
                                                certificate_not_after(auth.cert_file)});
        } catch (const std::runtime_error& e) {
            fail(config, i, "cert_file", auth.cert_file_line, e.what());
        }
    }
    return expiries;
}

}  // namespace pushsync::sender
