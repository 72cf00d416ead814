// SPDX-License-Identifier: BSD-2-Clause
// The Debian packages as a hoster meets them: scripts/package's .debs (test package_build) are
// installed on this machine with apt, checked, used (stock nginx loads the module through
// modules-enabled, the sender runs as the user pushsync against the installed pushsync.yaml and
// apns-sim), then purged, leaving nginx as it was.
//
// A real install rather than dpkg --root or dpkg-deb -x: what is under test is mostly what the
// maintainer scripts do (the system user and group, www-data in the group, the folders' owners
// and modes, the modules-enabled link and its removal), and those run only in a real install.
// The install needs root; CI runs as root on a throw-away machine. The test takes a machine-wide
// lock, never touches a machine where pushsync is already installed, binds loopback only (the
// system's nginx.conf is checked with `nginx -t`, never started), and purges on every exit.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "pushsync_version.hpp"
#include "tests/support/apns_sim_fixture.hpp"
#include "tests/support/process.hpp"

namespace pushsync::test {
namespace {

namespace fs = std::filesystem;

const std::string kVersion(pushsync::version);
const fs::path kYaml = "/etc/pushsync/pushsync.yaml";
const fs::path kTestNginxSnippet = "/etc/nginx/conf.d/pushsync-package-test.conf";

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// The version debian/changelog's first entry names.
std::string changelog_version() {
    const std::string head = first_line(read_file(source_dir() / "debian/changelog"));
    std::smatch m;
    if (!std::regex_search(head, m, std::regex(R"(^pushsync \(([^)]+)\))"))) return "unparsed: " + head;
    return m[1];
}

bool command_exists(const std::string& name) { return run({"sh", "-c", "command -v " + name}).exit_code == 0; }

bool package_installed(const std::string& name) {
    const auto r = run({"dpkg-query", "-W", "-f=${Status}", name});
    return r.exit_code == 0 && r.out.find("install ok installed") != std::string::npos;
}

// argv run as `user` with that user's groups (as systemd's User= does), no capabilities.
std::vector<std::string> as_user(const std::string& user, std::vector<std::string> argv) {
    std::vector<std::string> full = {"setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups",
                                     "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs",
                                     "--",       "sh",  "-c",  "umask 0007; exec \"$@\"", "sh"};
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
}

struct Stat {
    std::string owner, group;
    unsigned mode = 0;
};
Stat stat_of(const fs::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return {};
    const passwd* pw = ::getpwuid(st.st_uid);
    const group* gr = ::getgrgid(st.st_gid);
    return {pw ? pw->pw_name : "?", gr ? gr->gr_name : "?", static_cast<unsigned>(st.st_mode & 07777)};
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << "not in pushsync.yaml: " << from;
    text.replace(at, from.size(), to);
}

struct Http {
    int status = 0;
    std::string body;
};
Http http(const std::string& method, int port, const std::string& path, const std::string& body = "") {
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "20", "-X", method, "-w", "\n%{http_code}"};
    if (!body.empty()) {
        argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", body});
    }
    argv.push_back("http://127.0.0.1:" + std::to_string(port) + path);
    const auto r = run(argv);
    const auto nl = r.out.rfind('\n');
    if (r.exit_code != 0 || nl == std::string::npos) return {0, r.err};
    return {std::atoi(r.out.c_str() + nl + 1), r.out.substr(0, nl)};
}

std::string token(int n) {
    char buf[65];
    std::snprintf(buf, sizeof buf, "%064x", 0xbeef0000 + n);
    return buf;
}

// Both packages, from scripts/package's folder; empty when one is missing.
std::vector<fs::path> built_debs() {
    const fs::path dir = binary_dir() / "package";
    std::vector<fs::path> debs;
    for (const char* name : {"libnginx-mod-http-pushsync", "pushsync"}) {
        bool found = false;
        if (fs::is_directory(dir)) {
            for (const auto& e : fs::directory_iterator(dir)) {
                const std::string f = e.path().filename().string();
                if (f.starts_with(std::string(name) + "_") && f.ends_with(".deb")) {
                    debs.push_back(e.path());
                    found = true;
                }
            }
        }
        if (!found) return {};
    }
    return debs;
}

// Machine-wide: one package test at a time, whoever runs it.
class MachineLock {
public:
    MachineLock() : fd_(::open("/run/lock/pushsync-package-test.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
        if (fd_ >= 0) ::flock(fd_, LOCK_EX);
    }
    ~MachineLock() {
        if (fd_ >= 0) ::close(fd_);
    }
    MachineLock(const MachineLock&) = delete;
    MachineLock& operator=(const MachineLock&) = delete;

private:
    int fd_;
};

CommandResult apt_get(std::vector<std::string> args) {
    std::vector<std::string> argv = {"apt-get", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=600"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {}, {{"DEBIAN_FRONTEND", "noninteractive"}});
}

// Removes everything the test put on the machine, whatever happened before.
struct Uninstall {
    std::vector<fs::path> files{kTestNginxSnippet};  // and the hoster's files the test adds
    ~Uninstall() {
        for (const auto& f : files) fs::remove(f);
        apt_get({"purge", "libnginx-mod-http-pushsync", "pushsync"});
    }
};

TEST(PackageVersion, ChangelogNamesTheProjectVersion) {
    EXPECT_EQ(changelog_version(), kVersion) << "project(VERSION) in CMakeLists.txt and debian/changelog disagree";
}

TEST(PackageVersion, BinariesPrintTheProjectVersion) {
    const auto sender = run({(binary_dir() / "sender/pushsync-sender").string(), "--version"});
    EXPECT_EQ(sender.exit_code, 0);
    EXPECT_EQ(sender.out, "pushsync-sender " + kVersion + "\n");
    const auto ctl = run({(binary_dir() / "cli/pushsyncctl").string(), "--version"});
    EXPECT_EQ(ctl.exit_code, 0);
    EXPECT_EQ(ctl.out, "pushsyncctl " + kVersion + "\n");
}

TEST(PackageInstall, InstalledPackagesServeDeliverAndRemoveCleanly) {
    if (!command_exists("dpkg-buildpackage")) GTEST_SKIP() << "dpkg-buildpackage is not installed (scripts/deps installs it)";
    if (::geteuid() != 0) GTEST_SKIP() << "installing packages needs root";
    if (!command_exists("setpriv") || !command_exists("apt-get")) GTEST_SKIP() << "needs apt-get and setpriv (Debian)";
    const MachineLock lock;
    for (const char* p : {"pushsync", "libnginx-mod-http-pushsync"}) {
        if (package_installed(p)) {
            GTEST_SKIP() << p << " is installed on this machine: the test installs and purges it, so it leaves this "
                         << "machine alone (apt-get purge " << p << " to let it run)";
        }
    }
    const auto debs = built_debs();
    ASSERT_EQ(debs.size(), 2u) << "no .debs in " << (binary_dir() / "package") << ": see the test package_build";
    for (const auto& deb : debs) {
        EXPECT_NE(deb.filename().string().find("_" + kVersion + "_"), std::string::npos) << deb;
    }

    ApnsSimFixture sim;  // before the install: nothing of it depends on the packages
    Uninstall uninstall;
    {
        std::vector<std::string> args = {"install"};
        for (const auto& deb : debs) args.push_back(deb.string());
        const auto r = apt_get(args);
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }

    // --- what the packages put on the machine -------------------------------------------------
    const fs::path module = "/usr/lib/nginx/modules/ngx_http_pushsync_module.so";
    EXPECT_TRUE(fs::is_regular_file(module));
    const fs::path enabled = "/etc/nginx/modules-enabled/50-mod-http-pushsync.conf";
    ASSERT_TRUE(fs::is_symlink(enabled)) << "the module is not enabled through modules-enabled";
    EXPECT_EQ(read_file(enabled), "load_module modules/ngx_http_pushsync_module.so;\n");

    const passwd* pw = ::getpwnam("pushsync");
    ASSERT_NE(pw, nullptr) << "no user pushsync";
    EXPECT_LT(pw->pw_uid, 1000u) << "pushsync is not a system user";
    EXPECT_NE(::getgrnam("pushsync"), nullptr);
    EXPECT_NE((" " + run({"id", "-nG", "www-data"}).out).find(" pushsync"), std::string::npos)
        << "www-data is not in the group pushsync";
    for (const char* dir : {"/var/lib/pushsync", "/run/pushsync"}) {
        const Stat st = stat_of(dir);
        EXPECT_EQ(st.owner + ":" + st.group, "pushsync:pushsync") << dir;
        EXPECT_EQ(st.mode, 02770u) << dir;
    }
    EXPECT_NE(run({"dpkg-query", "-W", "-f=${Conffiles}", "pushsync"}).out.find(kYaml.string()), std::string::npos)
        << "pushsync.yaml is not a conffile";
    for (const char* unit : {"pushsync-sender.service", "pushsync-gc.service", "pushsync-gc.timer"}) {
        EXPECT_TRUE(fs::is_regular_file(fs::path("/lib/systemd/system") / unit)) << unit;
    }
    for (const char* p : {"pushsync", "libnginx-mod-http-pushsync"}) {
        EXPECT_EQ(run({"dpkg", "-L", p}).out.find("apns-sim"), std::string::npos) << "apns-sim ships in " << p;
    }
    EXPECT_EQ(run({"/usr/sbin/pushsync-sender", "--version"}).out, "pushsync-sender " + kVersion + "\n");
    EXPECT_EQ(run({"/usr/bin/pushsyncctl", "--version"}).out, "pushsyncctl " + kVersion + "\n");
    if (command_exists("man")) {
        const auto man = run({"man", "-P", "cat", "pushsyncctl"}, {}, {{"MANWIDTH", "100"}});
        EXPECT_EQ(man.exit_code, 0) << man.err;
        EXPECT_NE(man.out.find("remove-device"), std::string::npos) << "man pushsyncctl lacks the commands";
        EXPECT_EQ(run({"man", "-w", "pushsync-sender"}).exit_code, 0);
    }

    // --- the stock nginx.conf with the module and the shipped pushsync.yaml: nginx -t ------------
    write_file(kTestNginxSnippet, "pushsync_config " + kYaml.string() + ";\n");
    {
        const auto t = run({"nginx", "-t"});
        EXPECT_EQ(t.exit_code, 0) << "nginx -t with the shipped pushsync.yaml:\n" << t.err;
    }
    fs::remove(kTestNginxSnippet);

    // --- conf/nginx.conf and conf/nginx-front.conf byte for byte: nginx -t ----------------------
    // conf_example_test and tests/system/shard run them with their paths and ports swapped; here
    // they are checked as a hoster copies them, against the installed module, the shipped
    // pushsync.yaml, and the certificate and ring files they name (made here, removed after).
    {
        const fs::path cert = "/etc/ssl/certs/sync.example.com.pem";
        const fs::path cert_key = "/etc/ssl/private/sync.example.com.key";
        const fs::path rings = "/etc/nginx/pushsync";
        for (const auto& f : {cert, cert_key, rings}) {
            ASSERT_FALSE(fs::exists(f)) << f << " exists: the test would replace a hoster's file";
        }
        // The folder last: Uninstall removes in order, and a folder only once it is empty.
        uninstall.files.insert(uninstall.files.end(), {cert, cert_key});
        for (const auto& ring : fs::directory_iterator(source_dir() / "conf/front")) {
            uninstall.files.push_back(rings / ring.path().filename());
        }
        uninstall.files.push_back(rings);
        fs::create_directories(rings);
        for (const auto& ring : fs::directory_iterator(source_dir() / "conf/front")) {
            fs::copy_file(ring.path(), rings / ring.path().filename());
        }
        const auto made = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                               "-subj", "/CN=sync.example.com", "-days", "1", "-keyout", cert_key.string(), "-out",
                               cert.string()});
        ASSERT_EQ(made.exit_code, 0) << made.err;
        for (const char* shipped : {"conf/nginx.conf", "conf/nginx-front.conf"}) {
            const auto t = run({"nginx", "-t", "-c", (source_dir() / shipped).string()});
            EXPECT_EQ(t.exit_code, 0) << "nginx -t -c " << shipped << ", as shipped:\n" << t.err;
        }
    }

    // --- a hoster's edits: the APNs (here apns-sim), its key (the sender's alone) -------------
    const fs::path key = "/etc/pushsync/AuthKey_" + sim.key_id() + ".p8";
    const fs::path ca = "/etc/pushsync/apns-sim-ca.pem";
    uninstall.files.insert(uninstall.files.end(), {key, ca});
    ASSERT_EQ(run({"install", "-o", "pushsync", "-g", "pushsync", "-m", "0400", sim.key_file().string(), key.string()})
                  .exit_code,
              0);
    ASSERT_EQ(run({"install", "-m", "0644", sim.ca_file().string(), ca.string()}).exit_code, 0);
    std::string yaml = read_file(kYaml);
    replace_once(yaml, "production: https://api.push.apple.com:443", "production: " + sim.url() + "\n  ca_file: " + ca.string());
    replace_once(yaml, "team_id: ABCDE12345", "team_id: " + sim.team_id());
    replace_once(yaml, "key_id: ABC123DEFG", "key_id: " + sim.key_id());
    replace_once(yaml, "key_file: /etc/pushsync/AuthKey_ABC123DEFG.p8", "key_file: " + key.string());
    replace_once(yaml, "coalesce_ms: 200", "coalesce_ms: 0");
    write_file(kYaml, yaml);
    EXPECT_NE(run(as_user("www-data", {"cat", key.string()})).exit_code, 0) << "nginx's workers can read the APNs key";

    // --- the stock nginx binary, the module through modules-enabled, loopback only ------------
    TempDir dir;
    const int port = free_tcp_port();
    write_file(dir / "nginx.conf",
               "user www-data;\nworker_processes 1;\ndaemon off;\npid " + (dir / "nginx.pid").string() +
                   ";\nerror_log " + (dir / "error.log").string() +
                   " notice;\ninclude /etc/nginx/modules-enabled/*.conf;\nevents {}\nhttp {\n    access_log off;\n"
                   "    pushsync_config " + kYaml.string() + ";\n    server {\n        listen 127.0.0.1:" +
                   std::to_string(port) +
                   ";\n        location /v1/ { pushsync_api; }\n"
                   "        location = /pushsync/status { pushsync_status; }\n    }\n}\n");
    // nginx's own prefix (no -p): modules-enabled's lines name modules/… under it.
    Process nginx = Process::spawn({"/usr/sbin/nginx", "-c", (dir / "nginx.conf").string()}, dir / "nginx.out");
    ASSERT_TRUE(wait_for_port(port)) << read_file(dir / "nginx.out") << read_file(dir / "error.log");

    Process sender = Process::spawn(as_user("pushsync", {"/usr/sbin/pushsync-sender", "--config", kYaml.string()}),
                                    dir / "sender.log");
    const bool alive = wait_until(
        [&] {
            const auto s = http("GET", port, "/pushsync/status");
            const auto j = nlohmann::json::parse(s.body, nullptr, false);
            return s.status == 200 && j.is_object() && j["sender"]["alive"] == true;
        },
        std::chrono::seconds(60), std::chrono::milliseconds(100));
    ASSERT_TRUE(alive) << "the sender (user pushsync) never showed up in the status:\n"
                       << read_file(dir / "sender.log") << read_file(dir / "error.log");
    EXPECT_EQ(nlohmann::json::parse(http("GET", port, "/pushsync/status").body)["version"], kVersion);

    // --- a request through that nginx becomes a push from the sender -------------------------
    const std::string a = token(1), b = token(2);
    for (const auto& t : {a, b}) {
        const auto r = http("PUT", port, "/v1/groups/package-test/devices/" + t, R"({"bundle_id":"com.example.app"})");
        ASSERT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body << read_file(dir / "error.log");
    }
    const auto n = http("POST", port, "/v1/groups/package-test/notify", R"({"tail":"t-1","origin":")" + a + "\"}");
    ASSERT_EQ(n.status, 202) << n.body;
    ASSERT_TRUE(sim.wait_for_requests(1, std::chrono::seconds(60))) << read_file(dir / "sender.log");
    const auto log = sim.request_log(0);
    ASSERT_EQ(log.size(), 1u) << log.dump();
    EXPECT_EQ(log[0].value("token", ""), b);
    EXPECT_EQ(log[0].value("status", 0), 200) << log.dump();
    EXPECT_EQ(log[0].value("payload", ""), R"({"aps":{"content-available":1},"tail":"t-1"})");

    // --- the store: the group's members read it, others do not --------------------------------
    const auto listed = run(as_user("www-data", {"pushsyncctl", "devices", "package-test", "--json"}));
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    const auto devices = nlohmann::json::parse(listed.out, nullptr, false);
    EXPECT_TRUE(devices.is_object() && devices["devices"].size() == 2u) << listed.out;
    EXPECT_NE(run(as_user("nobody", {"pushsyncctl", "devices", "package-test"})).exit_code, 0)
        << "someone outside the group pushsync reads the store";

    sender.signal(SIGTERM);
    EXPECT_EQ(sender.wait(std::chrono::seconds(20)), 0) << read_file(dir / "sender.log");
    nginx.signal(SIGQUIT);
    EXPECT_EQ(nginx.wait(std::chrono::seconds(20)), 0);

    // --- removed: nginx starts as it did before ------------------------------------------------
    for (const auto& f : {key, ca}) fs::remove(f);  // the hoster's own files in /etc/pushsync
    {
        const auto r = apt_get({"purge", "libnginx-mod-http-pushsync", "pushsync"});
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    EXPECT_FALSE(fs::exists(fs::symlink_status(enabled))) << "modules-enabled still names the module";
    EXPECT_FALSE(fs::exists(module));
    EXPECT_FALSE(fs::exists("/var/lib/pushsync")) << "purge left the store";
    const auto t = run({"nginx", "-t"});
    EXPECT_EQ(t.exit_code, 0) << "nginx -t after removing the packages:\n" << t.err;
}

}  // namespace
}  // namespace pushsync::test
