// SPDX-License-Identifier: BSD-2-Clause
// Reload without a restart (SIGHUP), end to end: real nginx + module, the real pushsync-sender,
// apns-sim. Rotated keys, added apps, broken files, restart-only keys and certificate expiry.
// Waits on conditions (the simulator's log and counters, the sender's log, the outbox).
#include <gtest/gtest.h>

#include <csignal>
#include <ctime>
#include <map>
#include <set>

#include "tests/system/delivery/e2e.hpp"

namespace pushsync::sender::e2e {
namespace {

constexpr const char* new_key_id = "NEWKEY0001";

// A P-256 token key as Apple hands it out (.p8) and its public half for the simulator.
void make_token_key(const std::filesystem::path& p8, const std::filesystem::path& pub) {
    auto r = run({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", p8.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run({"openssl", "pkey", "-in", p8.string(), "-pubout", "-out", pub.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
}

// Replaces the first `from` in the file (written whole, then renamed: the sender never reads half).
void edit_config(const Stack& s, const std::string& from, const std::string& to) {
    std::string text = read_file(s.nginx.config_path());
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from << " not in\n" << text;
    text.replace(at, from.size(), to);
    const auto tmp = s.nginx.config_path().string() + ".tmp";
    write_file(tmp, text);
    std::filesystem::rename(tmp, s.nginx.config_path());
}


TEST(SenderReload, RotatedKeyUnderABurstDeliversEachPushOnceAndClosesTheOldConnectionGracefully) {
    TempDir keys;
    const auto old_key = keys.path() / "AuthKey.p8";
    const auto new_key = keys.path() / "AuthKey.new.p8";
    make_token_key(new_key, keys.path() / "new.pub.pem");
    Stack::Options o;
    o.start_sender = false;
    o.request_timeout_ms = 30000;  // queued pushes must not time out behind the slow answers
    o.key_file = old_key.string();
    o.sim_options.max_streams = 4;  // a few on the wire, the rest queued in the client
    o.sim_options.extra_args = {"--token-key", std::string(new_key_id) + ":" + "ABCDE12345:" +
                                                   (keys.path() / "new.pub.pem").string() + ":com.example.app"};
    Stack s(o);
    ASSERT_EQ(s.sim.team_id(), "ABCDE12345");
    std::filesystem::copy_file(s.sim.key_file(), old_key);
    s.start_sender();

    // 120 devices in 12 groups, one notify each: every device is owed exactly one push.
    std::vector<std::pair<std::string, std::string>> devices;
    for (int i = 0; i < 120; ++i) devices.emplace_back(token(i), "burst-" + std::to_string(i % 12));
    for (int i = 0; i < 2; ++i) devices.emplace_back(token(i, 'b'), "after");
    ASSERT_EQ(s.import_devices(devices), 0);
    s.sim.add_fault({{"kind", "delay"}, {"delay_ms", 150}, {"count", -1}});
    for (int g = 0; g < 12; ++g) s.notify("burst-" + std::to_string(g), "T-1");
    ASSERT_TRUE(s.sim.wait_for_requests(12));

    // Mid-burst: the key file replaced by a new key (same path) with its new id, then SIGHUP.
    std::filesystem::rename(new_key, old_key);
    edit_config(s, "key_id: " + s.sim.key_id(), std::string("key_id: ") + new_key_id);
    ASSERT_TRUE(reload_sender(s, "config.reloaded")) << read_file(s.sender_log());
    const std::uint64_t seen_at_reload = s.sim.request_log().back().value("seq", 0);
    s.notify("after", "T-2");  // after the reload: signed with the new key

    ASSERT_TRUE(s.wait_outbox_empty(std::chrono::seconds(60))) << read_file(s.sender_log());
    std::map<std::string, int> delivered, delivered_after;
    std::set<std::string> key_ids;
    std::size_t old_key_requests = 0, new_key_requests = 0;
    for (const auto& e : s.requests()) {
        EXPECT_EQ(e["status"], 200) << e.dump();
        if (e["payload"].get<std::string>().find("T-1") != std::string::npos) ++delivered[e["token"]];
        if (e["key_id"] == s.sim.key_id()) ++old_key_requests;
        if (e["key_id"] == new_key_id) ++new_key_requests;
        if (e["payload"].get<std::string>().find("T-2") != std::string::npos) {
            ++delivered_after[e["token"]];
            EXPECT_EQ(e["key_id"], new_key_id) << e.dump();
        }
        if (e.value("seq", 0u) > seen_at_reload + o.sim_options.max_streams) {
            // Past what was on the old connection's streams at the reload: the new key only.
            EXPECT_EQ(e["key_id"], new_key_id) << e.dump();
        }
    }
    ASSERT_EQ(delivered.size(), 120u);
    for (const auto& [t, n] : delivered) EXPECT_EQ(n, 1) << t;  // exactly once each
    EXPECT_EQ(delivered_after, (std::map<std::string, int>{{token(0, 'b'), 1}, {token(1, 'b'), 1}}));
    EXPECT_GT(old_key_requests, 0u);  // the burst was in flight on the old key
    EXPECT_GT(new_key_requests, 0u);
    // The old connection: our GOAWAY NO_ERROR after every stream was answered, nothing reset.
    const auto counters = s.sim.counters();
    EXPECT_GE(counters.value("goaways_received", 0), 1) << counters.dump();
    EXPECT_GE(counters.value("client_graceful_closes", 0), 1) << counters.dump();
    EXPECT_EQ(counters.value("client_closes_with_open_streams", 0), 0) << counters.dump();
    EXPECT_EQ(counters.value("streams_reset_by_client", 0), 0) << counters.dump();
    const std::string log = read_file(s.sender_log());
    EXPECT_NE(log.find("apns.connection_draining"), std::string::npos) << log;
    EXPECT_NE(log.find("apns.connection_retired"), std::string::npos) << log;
    EXPECT_NE(log.find("replaced=2"), std::string::npos) << log;  // its production and sandbox connections
}


std::string app_yaml(const Stack& s, const std::string& bundle_id) {
    return "  - bundle_id: " + bundle_id + "\n    auth:\n      type: token\n      team_id: " + s.sim.team_id() +
           "\n      key_id: " + s.sim.key_id() + "\n      key_file: " + s.sim.key_file().string() + "\n";
}

void register_for(Stack& s, const std::string& group, const std::string& token, const std::string& bundle_id) {
    const auto r = s.nginx.request("PUT", "/v1/groups/" + group + "/devices/" + token,
                                   R"({"bundle_id":")" + bundle_id + "\"}");
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body << r.error;
}

TEST(SenderReload, AnAppAddedToTheFileGetsPushesAfterSighupWithoutARestart) {
    Stack::Options o;
    o.sim_options.topics = {"com.example.app", "com.example.second"};
    Stack s(o);
    const pid_t pid = s.sender.pid();
    const std::string a = token(1), b = token(2, 'b');
    s.register_device("g", a);
    // nginx takes the new app with its own reload; the sender has not been told yet.
    edit_config(s, "apps:\n", "apps:\n" + app_yaml(s, "com.example.second"));
    s.nginx.reload();
    register_for(s, "g", b, "com.example.second");
    s.notify("g", "T1", a);
    ASSERT_TRUE(wait_until([&] {
        return read_file(s.sender_log()).find("push.unroutable group=g token=" + b.substr(0, 8)) != std::string::npos;
    })) << read_file(s.sender_log());
    ASSERT_TRUE(s.wait_outbox_empty());
    EXPECT_EQ(s.requests_for(b).size(), 0u);

    ASSERT_TRUE(reload_sender(s, "config.reloaded")) << read_file(s.sender_log());
    s.notify("g", "T2", a);
    ASSERT_TRUE(wait_until([&] { return s.delivered_to(b) == 1; })) << read_file(s.sender_log());
    const auto pushed = s.requests_for(b).at(0);
    EXPECT_EQ(pushed["headers"]["apns-topic"], "com.example.second");
    EXPECT_EQ(pushed["payload"], R"({"aps":{"content-available":1},"tail":"T2"})");
    EXPECT_TRUE(s.sender.running());
    EXPECT_EQ(s.sender.pid(), pid);
    // Same team and key: the new app shares the running connection, nothing was replaced.
    EXPECT_NE(read_file(s.sender_log()).find("config.reloaded config=" + s.nginx.config_path().string() +
                                             " apps=2 connections=2 replaced=0"),
              std::string::npos)
        << read_file(s.sender_log());
}

int line_of(const std::string& text, const std::string& what) {
    const auto at = text.find(what);
    return at == std::string::npos ? 0 : static_cast<int>(std::count(text.begin(), text.begin() + at, '\n')) + 1;
}

TEST(SenderReload, ABrokenFileKeepsTheRunningConfigurationAndNamesFileLineAndProblem) {
    Stack s;
    const std::string a = token(1), b = token(2);
    s.register_device("g", a);
    s.register_device("g", b);
    const std::string good = read_file(s.nginx.config_path());
    const std::string path = s.nginx.config_path().string();
    std::size_t tail = 0;
    const auto delivers = [&] {
        const std::string t = "T" + std::to_string(++tail);
        s.notify("g", t, a);
        return wait_until([&] {
            for (const auto& e : s.requests_for(b))
                if (e["payload"].get<std::string>().find(t) != std::string::npos && e["status"] == 200) return true;
            return false;
        });
    };
    const auto last_line = [&](const std::string& event) {
        const std::string log = read_file(s.sender_log());
        const auto at = log.rfind(event);
        return at == std::string::npos ? std::string() : log.substr(at, log.find('\n', at) - at);
    };

    // A value of the wrong type.
    edit_config(s, "coalesce_ms: 0", "coalesce_ms: soon");
    const int line = line_of(read_file(s.nginx.config_path()), "coalesce_ms: soon");
    ASSERT_TRUE(reload_sender(s, "config.reload_failed"));
    EXPECT_NE(last_line("config.reload_failed").find(path + ":" + std::to_string(line) + ": delivery.coalesce_ms"),
              std::string::npos)
        << last_line("config.reload_failed");
    EXPECT_NE(last_line("config.reload_failed").find("the running configuration stays in force"), std::string::npos);
    EXPECT_TRUE(delivers()) << read_file(s.sender_log());

    // A key file that is not there.
    write_file(s.nginx.config_path(), good);
    edit_config(s, "key_file: " + s.sim.key_file().string(), "key_file: /nonexistent/AuthKey.p8");
    const int key_line = line_of(read_file(s.nginx.config_path()), "key_file: /nonexistent");
    ASSERT_TRUE(reload_sender(s, "config.reload_failed"));
    EXPECT_NE(last_line("config.reload_failed")
                  .find(path + ":" + std::to_string(key_line) + ": apps[0].auth.key_file: cannot read /nonexistent"),
              std::string::npos)
        << last_line("config.reload_failed");
    EXPECT_TRUE(delivers()) << read_file(s.sender_log());

    // A key file that is not a P-256 key: parsed before anything changes.
    TempDir junk;
    write_file(junk.path() / "AuthKey.p8", "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
    write_file(s.nginx.config_path(), good);
    edit_config(s, "key_file: " + s.sim.key_file().string(), "key_file: " + (junk.path() / "AuthKey.p8").string());
    ASSERT_TRUE(reload_sender(s, "config.reload_failed"));
    EXPECT_NE(last_line("config.reload_failed").find(path + ":" + std::to_string(key_line) + ": apps[0].auth.key_file: "),
              std::string::npos)
        << last_line("config.reload_failed");
    EXPECT_EQ(last_line("config.reload_failed").find("bm90IGEga2V5"), std::string::npos);  // never the key's bytes
    EXPECT_TRUE(delivers()) << read_file(s.sender_log());

    // A key that needs a restart refuses the whole reload, and says which.
    write_file(s.nginx.config_path(), good);
    edit_config(s, "capacity: 4096", "capacity: 8192");
    edit_config(s, "coalesce_ms: 0", "coalesce_ms: 5000");
    ASSERT_TRUE(reload_sender(s, "config.reload_refused"));
    EXPECT_NE(last_line("config.reload_refused").find("keys=queue.capacity "), std::string::npos)
        << last_line("config.reload_refused");
    EXPECT_TRUE(delivers()) << read_file(s.sender_log());  // coalesce_ms 5000 was not applied either

    // And the good file still reloads.
    write_file(s.nginx.config_path(), good);
    ASSERT_TRUE(reload_sender(s, "config.reloaded"));
    EXPECT_TRUE(delivers());
    EXPECT_EQ(s.sim.counters().value("goaways_received", 0), 0);  // nothing changed: no connection replaced
}

TEST(SenderReload, AClientCertificateTenDaysFromExpiryIsWarnedAboutAtStartAndReload) {
    Stack::Options o;
    o.start_sender = false;
    Stack s(o);
    TempDir d;
    const auto key = d.path() / "legacy.key", csr = d.path() / "legacy.csr", cert = d.path() / "legacy.pem",
               ext = d.path() / "legacy.ext";
    auto r = run({"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run({"openssl", "req", "-new", "-key", key.string(), "-subj",
             "/UID=com.example.legacy/CN=Apple Push Services: com.example.legacy/OU=" + s.sim.team_id(), "-out",
             csr.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    write_file(ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n");
    r = run({"openssl", "x509", "-req", "-in", csr.string(), "-CA", s.sim.ca_file().string(), "-CAkey",
             (s.sim.certs_dir() / "ca.key").string(), "-set_serial", "4242", "-days", "10", "-sha256", "-extfile",
             ext.string(), "-out", cert.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    edit_config(s, "apps:\n", "apps:\n  - bundle_id: com.example.legacy\n    auth:\n      type: certificate\n"
                              "      cert_file: " + cert.string() + "\n      key_file: " + key.string() + "\n");
    s.nginx.reload();
    s.start_sender();

    const std::string expected =
        "credential.expiring bundle_id=com.example.legacy cert_file=" + cert.string() + " not_after=";
    ASSERT_TRUE(wait_until([&] { return count_in(read_file(s.sender_log()), expected) == 1; }))
        << read_file(s.sender_log());
    const std::string log = read_file(s.sender_log());
    const std::string line = log.substr(log.find(expected), log.find('\n', log.find(expected)) - log.find(expected));
    // 10 days less the time since it was made: 10 within the same second, 9 after.
    EXPECT_TRUE(line.find(" days_left=9 ") != std::string::npos || line.find(" days_left=10 ") != std::string::npos)
        << line;
    EXPECT_NE(log.find(" warn " + expected), std::string::npos) << line;

    // It still works: a push over the certificate connection.
    const std::string a = token(1), b = token(2);
    register_for(s, "legacy", a, "com.example.legacy");
    register_for(s, "legacy", b, "com.example.legacy");
    s.notify("legacy", "T1", a);
    ASSERT_TRUE(wait_until([&] { return s.delivered_to(b) == 1; })) << read_file(s.sender_log());
    EXPECT_EQ(s.requests_for(b).at(0)["auth"], "certificate");

    // The same expiry in the metrics: pushsync_credential_expiry_timestamp_seconds.
    const std::string not_after = line.substr(line.find("not_after=") + 10, 20);  // 2026-12-10T11:00:00Z
    std::tm tm{};
    ASSERT_NE(strptime(not_after.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr) << line;
    const std::string sample = "pushsync_credential_expiry_timestamp_seconds{bundle_id=\"com.example.legacy\","
                               "environment=\"production\"} " + std::to_string(timegm(&tm));
    const auto metrics = s.nginx.request("GET", "/pushsync/metrics");
    EXPECT_NE(metrics.body.find(sample), std::string::npos) << sample << "\n" << metrics.body;

    // pushsyncctl check credentials reads the same expiry, as a warning, and prints no secret.
    const auto check = run({(binary_dir() / "cli" / "pushsyncctl").string(), "--config",
                            s.nginx.config_path().string(), "check", "credentials", "--json"});
    const auto report = nlohmann::json::parse(check.out, nullptr, false);
    ASSERT_TRUE(report.is_object()) << check.out << check.err;
    // Where a `pushsync` user exists (the package made it), the test's 0600 root files are not
    // its to read, and check says so; nothing else may be wrong.
    EXPECT_EQ(check.exit_code, report["problems"].empty() ? 0 : 3) << check.out;
    for (const auto& problem : report["problems"]) {
        EXPECT_NE(problem.get<std::string>().find("not readable by pushsync (mode 0600 owner 0:0)"), std::string::npos)
            << check.out;
    }
    const auto& certificates = report["certificates"];
    ASSERT_EQ(certificates.size(), 1u) << check.out;
    EXPECT_EQ(certificates[0]["bundle_id"], "com.example.legacy");
    EXPECT_GE(certificates[0]["days_left"], 9);
    EXPECT_LE(certificates[0]["days_left"], 10);
    EXPECT_EQ(report["warnings"].size(), 1u) << check.out;
    EXPECT_EQ(check.out.find("PRIVATE KEY"), std::string::npos);

    // Again at every reload.
    ASSERT_TRUE(reload_sender(s, "config.reloaded"));
    EXPECT_EQ(count_in(read_file(s.sender_log()), expected), 2u);
}

}  // namespace
}  // namespace pushsync::sender::e2e
