// SPDX-License-Identifier: BSD-2-Clause
// pushsyncctl's store commands, run as the built binary against a store the test made with Store:
// both output forms, the exit codes, and reads while another writer is busy.
#include <lmdb.h>
#include <pwd.h>
#include <sys/stat.h>

#include <atomic>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "shared/store/codec.hpp"
#include "tests/cli/cli_fixture.hpp"

namespace pushsync::test {
namespace {

using nlohmann::json;

class CliStore : public CliTest {
protected:
    void SetUp() override {
        const std::int64_t now_s = now_unix_ms() / 1000 * 1000;  // whole seconds: JSON round trips exactly
        recent_ = now_s - 3'600'000;
        old_ = now_s - 100 * ms_per_day;
        auto store = open_store();
        a1_ = add(*store, token_of(1), "g-alpha", "com.example.app", Environment::production, "4.1", recent_);
        a2_ = add(*store, token_of(2), "g-alpha", "com.example.app", Environment::sandbox, "", recent_);
        b3_ = add(*store, token_of(3), "g-beta", "com.example.legacy", Environment::production, "2.0", old_);
    }

    std::string exported() const {
        std::ostringstream out;
        open_store()->export_jsonl(out);
        return out.str();
    }

    std::int64_t recent_ = 0;
    std::int64_t old_ = 0;
    Device a1_, a2_, b3_;
};

TEST_F(CliStore, GroupsTable) {
    const auto r = ctl({"groups"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "GROUP    DEVICES\ng-alpha        2\ng-beta         1\n");
    EXPECT_EQ(r.err, "");
}

TEST_F(CliStore, GroupsJsonAndLimit) {
    auto r = ctl({"groups", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, R"({"groups":[{"group":"g-alpha","devices":2},{"group":"g-beta","devices":1}]})" "\n");
    r = ctl({"--json", "groups", "--limit", "1"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, R"({"groups":[{"group":"g-alpha","devices":2}]})" "\n");
    r = ctl({"groups", "--limit=1"});
    EXPECT_EQ(r.out, "GROUP    DEVICES\ng-alpha        2\n");
    EXPECT_EQ(ctl({"groups", "--limit", "many"}).exit_code, 2);
    EXPECT_EQ(ctl({"groups", "--limit"}).exit_code, 2);
}

TEST_F(CliStore, DevicesTable) {
    const auto r = ctl({"devices", "g-alpha"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 3u) << r.out;
    EXPECT_EQ(lines[0].rfind("TOKEN", 0), 0u);
    EXPECT_NE(lines[0].find("  BUNDLE_ID  "), std::string::npos);
    const std::string when = format_rfc3339(recent_);
    EXPECT_EQ(lines[1], token_of(1) + "  g-alpha  com.example.app  production   4.1          " + when + "  " + when);
    EXPECT_EQ(lines[2], token_of(2) + "  g-alpha  com.example.app  sandbox      -            " + when + "  " + when);
}

TEST_F(CliStore, DevicesJsonIsTheApiListShape) {
    const auto r = ctl({"devices", "g-alpha", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, R"({"group":"g-alpha","devices":[)" + device_to_json(a1_) + "," + device_to_json(a2_) + "]}\n");
}

TEST_F(CliStore, DevicesOfUnknownOrInvalidGroup) {
    auto r = ctl({"devices", "g-gamma"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "pushsyncctl: group \"g-gamma\" has no devices\n");
    EXPECT_EQ(ctl({"devices", "g-gamma", "--json"}).exit_code, 1);
    r = ctl({"devices", "g gamma"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("invalid group"), std::string::npos) << r.err;
    EXPECT_EQ(ctl({"devices"}).exit_code, 2);
}

TEST_F(CliStore, DeviceTableAndJson) {
    auto r = ctl({"device", token_of(1)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string when = format_rfc3339(recent_);
    EXPECT_EQ(r.out, "token          " + token_of(1) +
                         "\n"
                         "group          g-alpha\n"
                         "bundle_id      com.example.app\n"
                         "environment    production\n"
                         "app_version    4.1\n"
                         "registered_at  " + when + "\n"
                         "last_seen      " + when + "\n"
                         "pushes_sent    0\n"
                         "pushes_failed  0\n"
                         "last_push      -\n");
    r = ctl({"device", "--json", token_of(2)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, device_to_json(a2_).substr(0, device_to_json(a2_).size() - 1) +
                         R"(,"delivery":{"sent":0,"failed":0,"last_push":null}})" "\n");
}

TEST_F(CliStore, DeviceShowsItsDeliveryStatisticsButExportDoesNot) {
    const std::string token = token_of(1);
    {
        auto store = open_store();
        const std::vector<PushOutcome> outcomes{
            {token, LastPush{recent_, "t1", 200, "", "id-1"}, PushOutcome::Count::sent},
            {token, LastPush{recent_, "t2", 400, "Bad\nTopic", "id-2"}, PushOutcome::Count::failed}};
        store->record_delivery({}, outcomes, {});
    }
    const std::string when = format_rfc3339(recent_);
    auto r = ctl({"device", token});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("pushes_sent    1\npushes_failed  1\nlast_push      " + when +
                         " tail=t2 status=400 reason=Bad\\x0aTopic apns-id=id-2\n"),
              std::string::npos)
        << r.out;
    r = ctl({"device", token, "--json"});
    const auto json = nlohmann::json::parse(r.out);
    EXPECT_EQ(json["delivery"],
              nlohmann::json::parse(R"({"sent":1,"failed":1,"last_push":{"time":")" + when +
                                    R"(","tail":"t2","status":400,"reason":"Bad\nTopic","apns_id":"id-2"}})"));
    r = ctl({"export"});
    EXPECT_EQ(r.out.find("delivery"), std::string::npos);
    EXPECT_EQ(r.out.find("id-2"), std::string::npos);
}

TEST_F(CliStore, DeviceTokenIsCaseInsensitive) {
    std::string upper = token_of(0xabcdef);
    auto store = open_store();
    const Device d = add(*store, upper, "g-case", "com.example.app");
    store.reset();
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const auto r = ctl({"device", upper, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["token"], d.token);
}

TEST_F(CliStore, DeviceNotFoundOrInvalid) {
    auto r = ctl({"device", token_of(99)});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "pushsyncctl: device " + token_of(99) + " is not registered\n");
    EXPECT_EQ(ctl({"device", token_of(99), "--json"}).exit_code, 1);
    // Neither an APNs token nor an FCM one ("0123456789abcdeg" and 202 letters would be FCM's).
    for (const std::string& bad : std::vector<std::string>{"abc", "0123456789abcde.", std::string(15, 'a'), std::string(1025, 'a'),
                                                            "cD3f:APA91b/with/slashes/in/it/xyz"}) {
        r = ctl({"device", bad});
        EXPECT_EQ(r.exit_code, 2) << bad;
        EXPECT_NE(r.err.find("invalid device token"), std::string::npos) << r.err;
    }
}

TEST_F(CliStore, RemoveDevice) {
    auto r = ctl({"remove-device", token_of(1)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "removed device " + token_of(1) + " from group g-alpha\n");
    EXPECT_EQ(ctl({"device", token_of(1)}).exit_code, 1);
    EXPECT_EQ(ctl({"remove-device", token_of(1)}).exit_code, 1);
    EXPECT_EQ(ctl({"groups"}).out, "GROUP    DEVICES\ng-alpha        1\ng-beta         1\n");

    r = ctl({"remove-device", token_of(3), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, R"({"removed":)" + device_to_json(b3_) + "}\n");
    EXPECT_FALSE(open_store()->get_device(token_of(3)).has_value());
    EXPECT_EQ(ctl({"remove-device", "xyz"}).exit_code, 2);
}

TEST_F(CliStore, RemoveGroup) {
    auto r = ctl({"remove-group", "g-alpha"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "removed group g-alpha (2 devices)\n");
    EXPECT_EQ(ctl({"devices", "g-alpha"}).exit_code, 1);
    EXPECT_EQ(ctl({"remove-group", "g-alpha"}).exit_code, 1);
    r = ctl({"remove-group", "g-beta", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, R"({"group":"g-beta","removed":1})" "\n");
    EXPECT_TRUE(open_store()->list_groups(0).empty());
    EXPECT_EQ(ctl({"remove-group", "no/such"}).exit_code, 2);
}

TEST_F(CliStore, StatsJson) {
    const auto r = ctl({"stats", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j["path"], store_path());
    EXPECT_EQ(j["devices"], 3);
    EXPECT_EQ(j["groups"], 2);
    EXPECT_EQ(j["per_app"], json::parse(R"([
        {"bundle_id":"com.example.app","platform":"apns","environment":"production","devices":1},
        {"bundle_id":"com.example.app","platform":"apns","environment":"sandbox","devices":1},
        {"bundle_id":"com.example.legacy","platform":"apns","environment":"production","devices":1}])"));
    EXPECT_EQ(j["map_size"], 64ull << 20);
    EXPECT_GT(j["map_used"].get<std::uint64_t>(), 0u);
    EXPECT_LE(j["map_used"].get<std::uint64_t>(), 64ull << 20);
    EXPECT_EQ(j["outbox"], 0);
}

TEST_F(CliStore, StatsTable) {
    const auto r = ctl({"stats"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 11u) << r.out;
    EXPECT_EQ(lines[0], "path      " + store_path());
    EXPECT_EQ(lines[1], "devices   3");
    EXPECT_EQ(lines[2], "groups    2");
    EXPECT_EQ(lines[3].rfind("map_used  ", 0), 0u);
    EXPECT_EQ(lines[4], "map_size  67108864 (64.0 MiB)");
    EXPECT_EQ(lines[5], "outbox    0");
    EXPECT_EQ(lines[6], "");
    EXPECT_EQ(lines[7], "BUNDLE_ID           PLATFORM  ENVIRONMENT  DEVICES");
    EXPECT_EQ(lines[8], "com.example.app     apns      production         1");
    EXPECT_EQ(lines[9], "com.example.app     apns      sandbox            1");
    EXPECT_EQ(lines[10], "com.example.legacy  apns      production         1");
}

TEST_F(CliStore, GcDryRunThenForReal) {
    auto r = ctl({"gc", "--dry-run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 3u) << r.out;
    EXPECT_EQ(lines[0].rfind("TOKEN_PREFIX", 0), 0u);
    // By prefix only: gc's output goes to the journal.
    EXPECT_EQ(lines[1], token_of(3).substr(0, 8) + "      g-beta  com.example.legacy  production   " + format_rfc3339(old_));
    EXPECT_EQ(r.out.find(token_of(3)), std::string::npos) << r.out;
    EXPECT_EQ(lines[2].rfind("would remove 1 device not seen since ", 0), 0u) << lines[2];
    EXPECT_NE(lines[2].find("(90 days)"), std::string::npos);
    EXPECT_EQ(ctl({"device", token_of(3)}).exit_code, 0) << "dry run removed it";

    r = ctl({"gc", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j["dry_run"], false);
    EXPECT_EQ(j["older_than_days"], 90);
    EXPECT_EQ(j["removed"], 1);
    json removed = json::parse(device_to_json(b3_));
    removed.erase("token");
    removed["token_prefix"] = token_of(3).substr(0, 8);
    EXPECT_EQ(j["devices"], json::array({removed}));
    EXPECT_EQ(r.out.find(token_of(3)), std::string::npos) << r.out;
    EXPECT_EQ(ctl({"device", token_of(3)}).exit_code, 1);
    EXPECT_EQ(ctl({"device", token_of(1)}).exit_code, 0);

    r = ctl({"gc", "--older-than", "0"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("removed 2 devices"), std::string::npos) << r.out;
    EXPECT_TRUE(open_store()->list_groups(0).empty());
}

TEST_F(CliStore, GcWithTtlZeroDoesNothingUnlessAsked) {
    write_config("delivery:\n  registration_ttl_days: 0\n");
    auto r = ctl({"gc"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "nothing to do: delivery.registration_ttl_days is 0 (never); use --older-than DAYS\n");
    EXPECT_EQ(open_store()->stats().devices, 3u);
    r = ctl({"gc", "--json"});
    EXPECT_EQ(json::parse(r.out)["removed"], 0);
    r = ctl({"gc", "--older-than", "30"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("removed 1 device not seen since"), std::string::npos) << r.out;
    EXPECT_EQ(open_store()->stats().devices, 2u);
    EXPECT_EQ(ctl({"gc", "--older-than", "-1"}).exit_code, 2);
}

TEST_F(CliStore, ExportToStdoutAndFile) {
    const std::string expected = exported();
    ASSERT_EQ(lines_of(expected).size(), 3u);
    auto r = ctl({"export"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, expected);
    EXPECT_EQ(r.err, "exported 3 devices\n");

    const std::string file = (dir_ / "devices.jsonl").string();
    r = ctl({"export", file});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "exported 3 devices to " + file + "\n");
    EXPECT_EQ(read_file(file), expected);
    r = ctl({"export", file, "--json"});
    EXPECT_EQ(r.out, R"({"file":")" + file + R"(","exported":3})" "\n");
    EXPECT_EQ(ctl({"export", (dir_ / "no/such/dir/x.jsonl").string()}).exit_code, 3);
}

TEST_F(CliStore, ExportImportRoundTripIsByteIdentical) {
    const std::string file = (dir_ / "devices.jsonl").string();
    ASSERT_EQ(ctl({"export", file}).exit_code, 0);
    const std::string before = read_file(file);
    std::filesystem::remove_all(store_path());

    auto r = ctl({"import", file});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "imported 3 devices from " + file + "\n");
    EXPECT_EQ(exported(), before);
    EXPECT_EQ(ctl({"check"}).exit_code, 0);

    // Again, from standard input and with --json: the same devices replace themselves.
    r = ctl({"import", "-", "--json"}, before);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, R"({"file":"-","imported":3})" "\n");
    EXPECT_EQ(exported(), before);
}

TEST_F(CliStore, ImportBadLineImportsNothing) {
    const std::string file = (dir_ / "bad.jsonl").string();
    write_file(file, device_to_json(a1_) + "\n{\"token\":\"zz\"}\n");
    std::filesystem::remove_all(store_path());
    const auto r = ctl({"import", file});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing imported"), std::string::npos) << r.err;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
    EXPECT_EQ(exported(), "");
}

TEST_F(CliStore, ImportMissingFile) {
    const auto r = ctl({"import", (dir_ / "missing.jsonl").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
    EXPECT_EQ(ctl({"import"}).exit_code, 2);
}

TEST_F(CliStore, CheckClean) {
    auto r = ctl({"check"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "mode 2770 " + store_path() + "\nmode 0660 " + store_path() + "/data.mdb\nmode 0660 " + store_path() +
                         "/lock.mdb\nmode absent " + queue_path() + "\nconsistent: 3 devices in 2 groups\n");
    r = ctl({"check", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, R"({"consistent":true,"devices":3,"groups":2,"problems":[],"modes":[{"path":")" + store_path() +
                         R"(","mode":"2770"},{"path":")" + store_path() + R"(/data.mdb","mode":"0660"},{"path":")" +
                         store_path() + R"(/lock.mdb","mode":"0660"},{"path":")" + queue_path() + R"(","mode":null}]})" "\n");
}

TEST_F(CliStore, CheckReportsAFileOthersMayReadOrWrite) {
    const std::string data = store_path() + "/data.mdb";
    ASSERT_EQ(::chmod(data.c_str(), 0664), 0);
    auto r = ctl({"check"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.out.find("mode 0664 " + data + "\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(data + ": mode 0664 lets others in"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 problem found"), std::string::npos) << r.out;
    r = ctl({"check", "--json"});
    EXPECT_EQ(r.exit_code, 3);
    const json j = json::parse(r.out);
    EXPECT_EQ(j["consistent"], false);
    EXPECT_EQ(j["modes"][1]["mode"], "0664");
}

TEST_F(CliStore, CheckCredentialsNamesEachUnusableFileWithItsLineAndPrintsNoSecret) {
    // The fixture's key files do not exist.
    auto r = ctl({"check", "credentials"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.out.find(config_path() + ":9: apps[0].auth.key_file: /nonexistent.p8: No such file or directory"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("apps[1].auth.key_file: /nonexistent.key: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("apps[1].auth.cert_file: /nonexistent.pem: "), std::string::npos) << r.out;
    EXPECT_NE(lines_of(r.out).back().find("3 problems found"), std::string::npos) << r.out;

    // A key file that is there but is no key: named, its bytes never shown. (Searchable folder:
    // where a `pushsync` user exists, check reads as that user.)
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
    write_file(dir_ / "AuthKey.p8", "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n");
    std::string yaml = read_file(config_path());
    yaml.replace(yaml.find("/nonexistent.p8"), 15, (dir_ / "AuthKey.p8").string());
    write_file(config_path(), yaml);
    r = ctl({"check", "credentials", "--json"});
    EXPECT_EQ(r.exit_code, 3);
    const json j = json::parse(r.out);
    EXPECT_EQ(j["usable"], false);
    ASSERT_EQ(j["problems"].size(), 3u) << r.out;
    EXPECT_NE(j["problems"][0].get<std::string>().find("apps[0].auth.key_file: " + (dir_ / "AuthKey.p8").string() +
                                                       ": not a PEM private key"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("c2VjcmV0"), std::string::npos);
}

TEST_F(CliStore, CheckCredentialsReadsKeysAndCertificatesAsTheSenderDoes) {
    // A token key that is no P-256 key, and a client certificate with someone else's key: each
    // named on its own line by the sender's own checks (Es256Key, TlsContext); the certificate's
    // expiry is still reported.
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
    const std::string rsa = (dir_ / "rsa.key").string();
    const std::string cert = (dir_ / "cert.pem").string();
    const std::string other = (dir_ / "other.key").string();
    ASSERT_EQ(run({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsa}).exit_code, 0);
    ASSERT_EQ(run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", (dir_ / "cert.key").string(),
                   "-out", cert, "-days", "400", "-subj", "/CN=legacy"})
                  .exit_code,
              0);
    ASSERT_EQ(run({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other}).exit_code,
              0);
    for (const std::string& file : {rsa, cert, other}) {
        std::filesystem::permissions(file, std::filesystem::perms(0644));
    }
    std::string yaml = read_file(config_path());
    yaml.replace(yaml.find("/nonexistent.p8"), 15, rsa);
    yaml.replace(yaml.find("/nonexistent.pem"), 16, cert);
    yaml.replace(yaml.find("/nonexistent.key"), 16, other);
    write_file(config_path(), yaml);
    auto r = ctl({"check", "credentials", "--json"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    const json j = json::parse(r.out);
    ASSERT_EQ(j["problems"].size(), 2u) << r.out;
    EXPECT_EQ(j["problems"][0].get<std::string>(),
              config_path() + ":9: apps[0].auth.key_file: " + rsa + ": not a P-256 EC key (APNs .p8 keys are)");
    EXPECT_EQ(j["problems"][1].get<std::string>().rfind(config_path() + ":11: apps[1].auth.key_file: cannot read key file " +
                                                            other + ": ",
                                                        0),
              0u)
        << r.out;
    EXPECT_NE(r.out.find("com.example.legacy"), std::string::npos) << r.out;  // its certificate's expiry
}

// An fcm app's service account: read as the sender would (Google's JSON, an RSA key, an https
// token_uri), named with its project and account when usable, warned of when others may read it,
// and a broken one named on one line with its file and problem — its key never printed.
TEST_F(CliStore, CheckCredentialsReadsServiceAccountsAsTheSenderDoes) {
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
    const std::string key = (dir_ / "fcm.key").string();
    ASSERT_EQ(run({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key}).exit_code, 0);
    const std::string pem = read_file(key);
    const std::string account = (dir_ / "fcm.json").string();
    write_file(account, json{{"type", "service_account"},
                             {"project_id", "pushsync-dev"},
                             {"private_key_id", "k1"},
                             {"private_key", pem},
                             {"client_email", "sender@pushsync-dev.iam.gserviceaccount.com"},
                             {"token_uri", "https://oauth2.googleapis.com/token"}}
                            .dump(2));
    std::filesystem::permissions(account, std::filesystem::perms(0400));
    // check reads as the sender's user where one exists: the file is then its own.
    std::vector<char> buffer(16384);
    passwd pw{};
    passwd* sender_user = nullptr;
    getpwnam_r("pushsync", &pw, buffer.data(), buffer.size(), &sender_user);
    if (sender_user) {
        ASSERT_EQ(::chown(account.c_str(), sender_user->pw_uid, sender_user->pw_gid), 0);
    }
    std::string yaml = read_file(config_path());
    const std::size_t apps_at = yaml.find("apps:\n") + 6;
    yaml.insert(apps_at, "  - bundle_id: com.example.android\n    platform: fcm\n    auth:\n      type: service_account\n"
                         "      file: " + account + "\n");
    write_file(config_path(), yaml);

    auto r = ctl({"check", "credentials", "--json"});
    json j = json::parse(r.out);
    for (const auto& problem : j["problems"]) {
        EXPECT_EQ(problem.get<std::string>().find("apps[0]"), std::string::npos) << problem;  // the fcm app is fine
    }
    ASSERT_EQ(j["service_accounts"].size(), 1u) << r.out;
    EXPECT_EQ(j["service_accounts"][0]["project_id"], "pushsync-dev");
    EXPECT_EQ(j["service_accounts"][0]["client_email"], "sender@pushsync-dev.iam.gserviceaccount.com");
    EXPECT_EQ(j["service_accounts"][0]["file"], account);
    r = ctl({"check", "credentials"});
    EXPECT_NE(r.out.find("service account com.example.android " + account + " project pushsync-dev as "
                         "sender@pushsync-dev.iam.gserviceaccount.com\n"),
              std::string::npos)
        << r.out;

    std::filesystem::permissions(account, std::filesystem::perms(0644));
    j = json::parse(ctl({"check", "credentials", "--json"}).out);
    bool warned = false;
    for (const auto& w : j["warnings"]) {
        warned = warned || w.get<std::string>().rfind(config_path() + ":12: apps[0].auth.file: " + account +
                                                          ": readable or writable by its group or others", 0) == 0;
    }
    EXPECT_TRUE(warned) << j.dump();

    write_file(account, json{{"type", "authorized_user"}, {"private_key", pem}}.dump());
    r = ctl({"check", "credentials", "--json"});
    EXPECT_EQ(r.exit_code, 3);
    j = json::parse(r.out);
    ASSERT_GE(j["problems"].size(), 1u) << r.out;
    EXPECT_EQ(j["problems"][0].get<std::string>().rfind(config_path() + ":12: apps[0].auth.file: " + account + ": type: ", 0),
              0u)
        << r.out;
    EXPECT_EQ(r.out.find(pem.substr(40, 20)), std::string::npos);  // no byte of the key
}

TEST_F(CliStore, CheckCredentialsWarnsOfAKeyThatIsNotTheSendersAlone) {
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
    const std::string key = (dir_ / "AuthKey.p8").string();
    ASSERT_EQ(run({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key}).exit_code, 0);
    std::string yaml = read_file(config_path());
    yaml.replace(yaml.find("/nonexistent.p8"), 15, key);
    write_file(config_path(), yaml);
    const std::string named = config_path() + ":9: apps[0].auth.key_file: " + key + ": ";
    const auto warnings = [&] {
        const auto r = ctl({"check", "credentials", "--json"});
        const json j = json::parse(r.out);
        std::vector<std::string> out;
        for (const auto& w : j["warnings"]) out.push_back(w.get<std::string>());
        return out;
    };
    // Readable by others (and so by the group, whose members include nginx's workers).
    std::filesystem::permissions(key, std::filesystem::perms(0644));
    auto w = warnings();
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].rfind(named + "readable or writable by its group or others", 0), 0u) << w[0];
    EXPECT_NE(w[0].find("(mode 0644 "), std::string::npos) << w[0];
    EXPECT_NE(w[0].find("chmod 0400"), std::string::npos) << w[0];
    const auto text = ctl({"check", "credentials"});
    EXPECT_NE(text.out.find("warning: " + named + "readable or writable"), std::string::npos) << text.out;

    std::vector<char> buffer(16384);
    passwd pw{};
    passwd* sender = nullptr;
    getpwnam_r("pushsync", &pw, buffer.data(), buffer.size(), &sender);
    if (!sender) {
        // check reads as whoever runs it: at 0400 the key is theirs alone.
        std::filesystem::permissions(key, std::filesystem::perms(0400));
        EXPECT_TRUE(warnings().empty());
        GTEST_SKIP() << "no user pushsync here: a key the sender's user reads but does not own is not tried";
    }
    // Readable by the sender through its group, but owned by someone else (who may change it).
    ASSERT_EQ(::chown(key.c_str(), 0, pw.pw_gid), 0) << "needs root";
    std::filesystem::permissions(key, std::filesystem::perms(0440));
    w = warnings();
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("by its group or others, and not owned by pushsync (mode 0440 "), std::string::npos) << w[0];
    ASSERT_EQ(::chown(key.c_str(), pw.pw_uid, pw.pw_gid), 0);
    std::filesystem::permissions(key, std::filesystem::perms(0400));
    EXPECT_TRUE(warnings().empty());
}

// Removes one group-index entry behind the Store's back, the kind of damage check exists for.
void drop_index_entry(const std::string& path, const std::string& group, const std::string& token) {
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    ASSERT_EQ(mdb_env_set_maxdbs(env, 8), 0);
    ASSERT_EQ(mdb_env_open(env, path.c_str(), 0, 0664), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    MDB_dbi dbi = 0;
    ASSERT_EQ(mdb_dbi_open(txn, "groups", 0, &dbi), 0);
    const std::string key = store_codec::group_key(group, token);
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    ASSERT_EQ(mdb_del(txn, dbi, &k, nullptr), 0);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

TEST_F(CliStore, CheckFindsAMissingIndexEntry) {
    drop_index_entry(store_path(), "g-alpha", token_of(2));
    auto r = ctl({"check"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    const auto lines = lines_of(r.out);
    ASSERT_GE(lines.size(), 2u) << r.out;
    EXPECT_NE(r.out.find(token_of(2)), std::string::npos) << r.out;
    EXPECT_NE(lines.back().find("found"), std::string::npos) << r.out;
    r = ctl({"check", "--json"});
    EXPECT_EQ(r.exit_code, 3);
    const json j = json::parse(r.out);
    EXPECT_EQ(j["consistent"], false);
    EXPECT_GE(j["problems"].size(), 1u);
}

// Removes the listing-order entry of `token` behind the Store's back: the device is still
// indexed, but a listing would never show it.
void drop_order_entry(const std::string& path, const std::string& token) {
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    ASSERT_EQ(mdb_env_set_maxdbs(env, 8), 0);
    ASSERT_EQ(mdb_env_open(env, path.c_str(), 0, 0664), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    MDB_dbi dbi = 0;
    ASSERT_EQ(mdb_dbi_open(txn, "group_order", 0, &dbi), 0);
    MDB_cursor* cursor = nullptr;
    ASSERT_EQ(mdb_cursor_open(txn, dbi, &cursor), 0);
    MDB_val k{}, v{};
    bool dropped = false;
    for (int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
        if (std::string_view(static_cast<const char*>(v.mv_data), v.mv_size) == token) {
            ASSERT_EQ(mdb_cursor_del(cursor, 0), 0);
            dropped = true;
            break;
        }
    }
    mdb_cursor_close(cursor);
    ASSERT_TRUE(dropped) << "no order entry for " << token;
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

TEST_F(CliStore, CheckFindsAMissingListingOrderEntry) {
    drop_order_entry(store_path(), token_of(2));
    const auto r = ctl({"check"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.out.find("listing order holds 2 entries, the index 3"), std::string::npos) << r.out;
}

TEST_F(CliStore, ReadsWhileAnotherWriterIsBusy) {
    std::atomic<bool> stop{false};
    std::atomic<unsigned> written{0};
    std::thread writer([&] {
        auto store = open_store();
        for (unsigned i = 0; !stop.load(); ++i) {
            add(*store, token_of(1000 + i), "g-busy-" + std::to_string(i % 7), "com.example.app");
            written.store(i + 1);
        }
    });
    ASSERT_TRUE(wait_until([&] { return written.load() > 50; }));
    for (int round = 0; round < 3; ++round) {
        for (const std::vector<std::string>& args :
             {std::vector<std::string>{"check"}, {"groups", "--json"}, {"stats"}, {"device", token_of(1)}}) {
            const auto r = ctl(args);
            EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.out << r.err;
        }
    }
    stop = true;
    writer.join();
    const auto r = ctl({"stats", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["devices"], 3 + written.load());
    EXPECT_EQ(ctl({"check"}).exit_code, 0);
}

TEST_F(CliTest, ReadCommandsWithoutAStore) {
    for (const std::vector<std::string>& args : {std::vector<std::string>{"groups"}, {"stats"}, {"check"}, {"export"}}) {
        const auto r = ctl(args);
        EXPECT_EQ(r.exit_code, 3) << args[0];
        EXPECT_EQ(r.err, "pushsyncctl: store " + store_path() +
                             ": no store here yet (nothing registered, or store.path is wrong)\n");
    }
}

}  // namespace
}  // namespace pushsync::test
