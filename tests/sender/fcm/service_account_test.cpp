// SPDX-License-Identifier: BSD-2-Clause
// The service-account file: what it yields, and the one line for each way it can be wrong.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "sender/fcm/auth/service_account.hpp"
#include "tests/sender/fcm/test_keys.hpp"
#include "tests/support/process.hpp"

namespace pushsync::sender::fcm {
namespace {

// The one line parse_service_account throws for `text`, or "parsed".
std::string error_of(const std::string& text, const std::string& file = "/etc/pushsync/fcm.json") {
    try {
        parse_service_account(text, file);
        return "parsed";
    } catch (const ServiceAccountError& e) {
        EXPECT_EQ(e.file(), file);
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
        return e.what();
    }
}

std::string without(const char* key) {
    auto json = test::account_json();
    json.erase(key);
    return json.dump(2);
}

std::string with(const char* key, const nlohmann::ordered_json& value) {
    auto json = test::account_json();
    json[key] = value;
    return json.dump(2);
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

TEST(FcmServiceAccount, ParsesGooglesFile) {
    const ServiceAccount account = parse_service_account(test::account_json().dump(2), "sa.json");
    EXPECT_EQ(account.project_id, "pushsync-test");
    EXPECT_EQ(account.private_key_id, "0123456789abcdef0123456789abcdef01234567");
    EXPECT_EQ(account.client_email, "sender@pushsync-test.iam.gserviceaccount.com");
    EXPECT_EQ(account.token_uri, "https://oauth2.googleapis.com/token");
    EXPECT_EQ(account.private_key.bits(), 2048);
}

TEST(FcmServiceAccount, AcceptsAPkcs1KeyAndADomainScopedProject) {
    auto json = test::account_json(test::pkcs1_pem(test::shared_rsa_key()));
    json["project_id"] = "example.com:pushsync-1";
    const ServiceAccount account = parse_service_account(json.dump(), "sa.json");
    EXPECT_EQ(account.project_id, "example.com:pushsync-1");
}

TEST(FcmServiceAccount, EachMissingMemberIsNamed) {
    for (const char* key : {"type", "project_id", "private_key_id", "private_key", "client_email", "token_uri"}) {
        EXPECT_EQ(error_of(without(key)), std::string("/etc/pushsync/fcm.json: ") + key + ": missing") << key;
        EXPECT_EQ(error_of(with(key, 42)), std::string("/etc/pushsync/fcm.json: ") + key + ": not a string (number)")
            << key;
        EXPECT_EQ(error_of(with(key, "")), std::string("/etc/pushsync/fcm.json: ") + key + ": empty") << key;
    }
}

TEST(FcmServiceAccount, AnotherKindOfGoogleCredentialIsNamed) {
    EXPECT_EQ(error_of(with("type", "authorized_user")),
              "/etc/pushsync/fcm.json: type: \"authorized_user\", not \"service_account\" (download a service-account "
              "key from the Firebase console: Project settings, Service accounts)");
}

TEST(FcmServiceAccount, KeyProblemsAreNamed) {
    const auto ec = test::make_p256_key();
    EXPECT_EQ(error_of(with("private_key", test::pkcs8_pem(ec.get()))),
              "/etc/pushsync/fcm.json: private_key: not an RSA key (EC)");
    EXPECT_EQ(error_of(with("private_key", "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")),
              "/etc/pushsync/fcm.json: private_key: not a PEM private key");
    EXPECT_EQ(error_of(with("private_key", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")),
              "/etc/pushsync/fcm.json: private_key: not a PEM private key");
    const auto small = test::make_rsa_key(1024);
    EXPECT_EQ(error_of(with("private_key", test::pkcs8_pem(small.get()))),
              "/etc/pushsync/fcm.json: private_key: RSA key of 1024 bits; a service-account key has 2048 to 8192");
}

TEST(FcmServiceAccount, ValuesThatWouldReshapeARequestAreRefused) {
    EXPECT_EQ(error_of(with("project_id", "p/../../x")),
              "/etc/pushsync/fcm.json: project_id: \"p/../../x\" is not a project id (lowercase letters, digits, "
              "'-', '.', ':')");
    EXPECT_EQ(error_of(with("token_uri", "http://oauth2.googleapis.com/token")),
              "/etc/pushsync/fcm.json: token_uri: \"http://oauth2.googleapis.com/token\" is not an https:// URL");
    EXPECT_EQ(error_of(with("client_email", "nobody")),
              "/etc/pushsync/fcm.json: client_email: \"nobody\" is not an e-mail address");
    // A value from the file appears escaped: a control byte cannot end the line.
    EXPECT_EQ(error_of(with("type", "a\nb")),
              "/etc/pushsync/fcm.json: type: \"a\\x0ab\", not \"service_account\" (download a service-account key "
              "from the Firebase console: Project settings, Service accounts)");
}

TEST(FcmServiceAccount, AJsonSyntaxErrorNamesItsLine) {
    EXPECT_EQ(error_of("{\n  \"type\": \"service_account\",\n  \"project_id\" \"x\"\n}"),
              "/etc/pushsync/fcm.json:3: not JSON: syntax error while parsing object separator - unexpected string "
              "literal; expected ':'");
    EXPECT_EQ(error_of("{\n\n\n\n"), "/etc/pushsync/fcm.json:5: not JSON: syntax error while parsing object key - "
                                     "unexpected end of input; expected string literal");
    EXPECT_EQ(error_of(""), "/etc/pushsync/fcm.json:1: not JSON: syntax error while parsing value - unexpected end "
                            "of input; expected '[', '{', or a literal");
    // A number beyond a double's range is a JSON error too, with its line.
    EXPECT_EQ(error_of("{\n\"type\": 1e999}"), "/etc/pushsync/fcm.json:2: not JSON: number overflow parsing '1e999'");
    // The bytes around the error are not repeated: they may be the private key's.
    const std::string line = error_of("{\"private_key\": \"-----BEGIN SECRET\x01\"}");
    EXPECT_EQ(line.find("SECRET"), std::string::npos) << line;
    EXPECT_EQ(line.rfind("/etc/pushsync/fcm.json:1: not JSON: ", 0), 0u) << line;
}

TEST(FcmServiceAccount, NotAnObjectOrTooLarge) {
    EXPECT_EQ(error_of("[1, 2]"), "/etc/pushsync/fcm.json: not a JSON object (array)");
    EXPECT_EQ(error_of(std::string(max_service_account_bytes + 1, ' ')),
              "/etc/pushsync/fcm.json: larger than 65536 bytes; not a service-account key");
}

TEST(FcmServiceAccount, LoadsARegularFileAndRefusesOthers) {
    pushsync::test::TempDir dir;
    const auto file = dir / "fcm.json";
    write_file(file, test::account_json().dump(2));
    EXPECT_EQ(load_service_account(file.string()).project_id, "pushsync-test");

    auto error_loading = [](const std::filesystem::path& path) {
        try {
            load_service_account(path.string());
            return std::string("loaded");
        } catch (const ServiceAccountError& e) {
            return std::string(e.what());
        }
    };
    const auto link = dir / "link.json";
    std::filesystem::create_symlink(file, link);
    EXPECT_EQ(error_loading(link), link.string() + ": is a symbolic link; name the file itself");
    EXPECT_EQ(error_loading(dir / "absent.json"), (dir / "absent.json").string() + ": cannot open: No such file or directory");
    EXPECT_EQ(error_loading(dir.path()), dir.path().string() + ": not a regular file (a folder, FIFO, socket or device)");
    const auto fifo = dir / "fifo.json";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(error_loading(fifo), fifo.string() + ": not a regular file (a folder, FIFO, socket or device)");

    const auto big = dir / "big.json";
    write_file(big, std::string(max_service_account_bytes + 1, ' '));
    EXPECT_EQ(error_loading(big), big.string() + ": larger than 65536 bytes; not a service-account key");

    const auto broken = dir / "broken.json";
    write_file(broken, "{\n\"type\": \"service_account\"\n\"x\": 1}");
    EXPECT_EQ(error_loading(broken), broken.string() + ":3: not JSON: syntax error while parsing object - unexpected "
                                                       "string literal; expected '}'");
}

TEST(FcmServiceAccount, DevcertsMakesALoadableDevelopmentAccount) {
    pushsync::test::TempDir dir;
    const auto made = pushsync::test::run({"bash", (pushsync::test::source_dir() / "tools/devcerts").string(),
                                           dir.path().string()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const auto path = dir / "fcm-service-account.json";
    const ServiceAccount account = load_service_account(path.string());
    EXPECT_EQ(account.project_id, "pushsync-dev");
    EXPECT_EQ(account.client_email, "pushsync-dev@pushsync-dev.iam.gserviceaccount.com");
    EXPECT_EQ(account.token_uri, "https://127.0.0.1:2199/token");
    EXPECT_EQ(account.private_key.bits(), 2048);
    EXPECT_EQ(account.private_key_id.size(), 40u);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0400u);

    // Idempotent, and another token endpoint rewrites the file around the same key.
    const auto again = pushsync::test::run({"bash", (pushsync::test::source_dir() / "tools/devcerts").string(),
                                            dir.path().string()},
                                           {}, {{"FCM_TOKEN_URI", "https://127.0.0.1:4444/token"}});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    const ServiceAccount moved = load_service_account(path.string());
    EXPECT_EQ(moved.token_uri, "https://127.0.0.1:4444/token");
    EXPECT_EQ(moved.private_key_id, account.private_key_id);
}

}  // namespace
}  // namespace pushsync::sender::fcm
