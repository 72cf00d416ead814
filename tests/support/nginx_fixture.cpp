// SPDX-License-Identifier: BSD-2-Clause
#include "tests/support/nginx_fixture.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pushsync::test {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return std::string(s);
}

const char* default_apps_yaml = R"(apps:
  - bundle_id: com.example.app
    environments: [production, sandbox]
    auth:
      type: token
      team_id: ABCDE12345
      key_id: ABC123DEFG
      key_file: /etc/pushsync/AuthKey_ABC123DEFG.p8
  - bundle_id: com.example.prodonly
    environments: [production]
    auth:
      type: token
      team_id: ABCDE12345
      key_id: ABC123DEFG
      key_file: /etc/pushsync/AuthKey_ABC123DEFG.p8
  - bundle_id: com.example.app
    platform: fcm
    auth:
      type: service_account
      file: /etc/pushsync/fcm-service-account.json
)";

// /proc/PID/stat's ppid and /proc/PID/cmdline's title.
struct ProcInfo {
    pid_t ppid = -1;
    std::string title;
};

ProcInfo proc_info(pid_t pid) {
    ProcInfo info;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return info;
    const auto close = line.rfind(')');
    if (close == std::string::npos) return info;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    rest >> state >> info.ppid;
    std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline");
    std::getline(cmd, info.title, '\0');
    return info;
}

// curl -i output: header blocks (1xx ones skipped), then the body.
HttpResponse parse_curl_output(const std::string& out) {
    HttpResponse response;
    std::size_t pos = 0;
    while (true) {
        const auto end = out.find("\r\n\r\n", pos);
        if (end == std::string::npos) throw std::runtime_error("curl output without headers: " + out);
        std::istringstream block(out.substr(pos, end - pos));
        pos = end + 4;
        std::string status_line;
        std::getline(block, status_line);
        std::istringstream sl(status_line);
        sl >> response.protocol >> response.status;
        if (response.status >= 100 && response.status < 200) continue;
        std::string line;
        while (std::getline(block, line)) {
            const auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            response.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
        }
        break;
    }
    response.body = out.substr(pos);
    return response;
}

}  // namespace

std::string_view to_string(Protocol protocol) noexcept {
    switch (protocol) {
    case Protocol::http1: return "http1.1";
    case Protocol::h2c: return "h2c";
    case Protocol::h2_tls: return "h2-tls";
    }
    return "?";
}

std::string HttpResponse::header(std::string_view name) const {
    const auto it = headers.find(lower(std::string(name)));
    return it == headers.end() ? std::string() : it->second;
}

fs::path NginxFixture::module_path() {
    return binary_dir() / "ngx_module" / "ngx_http_pushsync_module.so";
}

NginxFixture::NginxFixture(NginxOptions options) : options_(std::move(options)) {
    http_port_ = free_tcp_port();
    do h2c_port_ = free_tcp_port(); while (h2c_port_ == http_port_);
    do tls_port_ = free_tcp_port(); while (tls_port_ == http_port_ || tls_port_ == h2c_port_);
    write_files();
    if (options_.start) start();
}

NginxFixture::~NginxFixture() {
    try {
        stop();
    } catch (...) {
        // a destructor must not throw; the Process destructor SIGKILLs what is left
    }
}

void NginxFixture::write_files() {
    const fs::path p = dir_.path();
    for (const char* sub : {"conf", "logs", "tmp"}) fs::create_directories(p / sub);
    fs::permissions(p / "tmp", fs::perms::all);

    const CommandResult cert = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
                                    (p / "conf/key.pem").string(), "-out", cert_path().string()});
    if (cert.exit_code != 0) throw std::runtime_error("openssl req failed: " + cert.err);

    std::ostringstream yaml;
    yaml << "store:\n  path: " << store_path().string() << "\n  map_size: " << options_.map_size
         << "\n  sync: " << options_.store_sync << "\n" << options_.store_yaml << "queue:\n  path: " << queue_path().string()
         << "\n  capacity: " << options_.queue_capacity << "\n"
         << (options_.apps_yaml.empty() ? default_apps_yaml : options_.apps_yaml) << "\n"
         << options_.extra_yaml << "\n";
    write_file(config_path(), yaml.str());

    std::ostringstream conf;
    conf << "load_module " << module_path().string() << ";\n"
         << "worker_processes " << options_.workers << ";\n"
         << (geteuid() == 0 ? "user root;\n" : "")
         << "pid logs/nginx.pid;\n"
         << (options_.daemon ? "daemon on;\n" : "daemon off;\n")
         << "master_process on;\n"
         << "error_log logs/error.log " << options_.error_log_level << ";\n"
         << "thread_pool default threads=" << options_.thread_pool_threads << ";\n"
         << options_.main_extra << "\n"
         << "events { worker_connections 2048; }\n"
         << "http {\n"
         << "  log_format pushsync '$remote_addr \"$pushsync_log_uri\" $status group=$pushsync_group';\n"
         << "  access_log logs/access.log pushsync;\n"
         << "  client_body_temp_path " << (p / "tmp/body").string() << ";\n"
         << "  proxy_temp_path " << (p / "tmp/proxy").string() << ";\n"
         << "  fastcgi_temp_path " << (p / "tmp/fastcgi").string() << ";\n"
         << "  uwsgi_temp_path " << (p / "tmp/uwsgi").string() << ";\n"
         << "  scgi_temp_path " << (p / "tmp/scgi").string() << ";\n"
         << "  pushsync_config " << config_path().string() << ";\n"
         << options_.http_extra << "\n"
         << "  server {\n"
         << "    listen 127.0.0.1:" << http_port_ << ";\n"
         << "    listen 127.0.0.1:" << h2c_port_ << " http2;\n"
         << "    listen 127.0.0.1:" << tls_port_ << " ssl http2;\n"
         << "    ssl_certificate " << cert_path().string() << ";\n"
         << "    ssl_certificate_key " << (p / "conf/key.pem").string() << ";\n"
         << "    location /v1/ { pushsync_api; " << options_.api_location_extra << " }\n"
         << "    location = /pushsync/status { pushsync_status; }\n"
         << "    location = /pushsync/metrics { pushsync_metrics; }\n"
         << "    location = /baseline { return 204; }\n"
         << options_.server_extra << "\n"
         << "  }\n"
         << "}\n";
    write_file(nginx_conf_path(), conf.str());
}

std::vector<std::string> NginxFixture::nginx_argv() const {
    return {"/usr/sbin/nginx", "-p", dir_.path().string() + "/", "-c", nginx_conf_path().string(), "-e",
            error_log_path().string()};
}

CommandResult NginxFixture::test_config() const {
    auto argv = nginx_argv();
    argv.push_back("-t");
    return run(argv);
}

void NginxFixture::start() {
    if (options_.daemon) {
        // The detached master is orphaned under this process instead of init, so it stays ours
        // to signal and wait for.
        if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) throw std::runtime_error("prctl(PR_SET_CHILD_SUBREAPER) failed");
        std::filesystem::remove(pid_file_path());
        Process starter = Process::spawn(nginx_argv(), dir_ / "logs/stderr.log", options_.environment);
        const int code = starter.wait(std::chrono::seconds(20));
        if (code != 0 || !wait_until([this] { return pid_in_file() > 0; })) {
            throw std::runtime_error("nginx did not start (exit " + std::to_string(code) + "):\n" +
                                     read_file(dir_ / "logs/stderr.log") + error_log());
        }
        master_ = Process::adopt(pid_in_file());
    } else {
        master_ = Process::spawn(nginx_argv(), dir_ / "logs/stderr.log", options_.environment);
    }
    const bool up = wait_until(
        [this] {
            if (!master_.running()) return true;
            return static_cast<int>(worker_pids().size()) == options_.workers;
        },
        std::chrono::seconds(20));
    if (!up || !master_.running() || !wait_for_port(http_port_) || !wait_for_port(h2c_port_) ||
        !wait_for_port(tls_port_)) {
        throw std::runtime_error("nginx did not start:\n" + read_file(dir_ / "logs/stderr.log") + error_log());
    }
}

bool NginxFixture::running() {
    return master_.pid() > 0 && master_.running();
}

void NginxFixture::stop() {
    if (!running()) return;
    master_.signal(SIGQUIT);
    if (master_.wait(std::chrono::seconds(20)) == -1) master_.kill_and_wait(SIGKILL);
}

void NginxFixture::reload() {
    const auto old = worker_pids();
    master_.signal(SIGHUP);
    const bool renewed = wait_until(
        [&] {
            const auto now = worker_pids();
            if (static_cast<int>(now.size()) != options_.workers) return false;
            for (pid_t pid : now) {
                if (std::find(old.begin(), old.end(), pid) != old.end()) return false;
            }
            return true;
        },
        std::chrono::seconds(20));
    if (!renewed) throw std::runtime_error("nginx reload did not bring up new workers:\n" + error_log());
}

void NginxFixture::upgrade_binary() {
    if (!options_.daemon) throw std::logic_error("upgrade_binary() needs NginxOptions::daemon");
    const pid_t old_master = master_.pid();
    master_.signal(SIGUSR2);
    pid_t new_master = 0;
    const bool up = wait_until(
        [&] {
            new_master = pid_in_file();
            return new_master > 0 && new_master != old_master &&
                   static_cast<int>(workers_of(new_master).size()) == options_.workers;
        },
        std::chrono::seconds(20));
    if (!up) throw std::runtime_error("nginx binary upgrade: no new master with workers:\n" + error_log());
    master_.signal(SIGQUIT);
    if (master_.wait(std::chrono::seconds(20)) == -1) throw std::runtime_error("nginx binary upgrade: the old master did not quit");
    master_ = Process::adopt(new_master);
}

pid_t NginxFixture::pid_in_file() const {
    const std::string text = read_file(pid_file_path());
    if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return 0;
    try {
        return static_cast<pid_t>(std::stol(text));
    } catch (const std::exception&) {
        return 0;
    }
}

std::vector<pid_t> NginxFixture::worker_pids() const {
    return workers_of(master_.pid());
}

std::vector<pid_t> NginxFixture::workers_of(pid_t master) const {
    std::vector<pid_t> pids;
    if (master <= 0) return pids;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            continue;
        }
        const pid_t pid = static_cast<pid_t>(std::stol(name));
        const ProcInfo info = proc_info(pid);
        if (info.ppid != master) continue;
        if (info.title.rfind("nginx: worker process", 0) != 0) continue;
        if (info.title.find("shutting down") != std::string::npos) continue;
        pids.push_back(pid);
    }
    std::sort(pids.begin(), pids.end());
    return pids;
}

std::string NginxFixture::url(std::string_view path, Protocol protocol) const {
    switch (protocol) {
    case Protocol::http1: return "http://127.0.0.1:" + std::to_string(http_port_) + std::string(path);
    case Protocol::h2c: return "http://127.0.0.1:" + std::to_string(h2c_port_) + std::string(path);
    case Protocol::h2_tls: return "https://127.0.0.1:" + std::to_string(tls_port_) + std::string(path);
    }
    return {};
}

HttpResponse NginxFixture::request(std::string_view method, std::string_view path, std::string_view body,
                                   const std::vector<std::string>& headers, Protocol protocol) const {
    std::vector<std::string> argv = {"curl", "-sS", "-i", "--max-time", "20", "-X", std::string(method), "-H", "Expect:"};
    switch (protocol) {
    case Protocol::http1: argv.push_back("--http1.1"); break;
    case Protocol::h2c: argv.push_back("--http2-prior-knowledge"); break;
    case Protocol::h2_tls:
        argv.insert(argv.end(), {"--http2", "--cacert", cert_path().string()});
        break;
    }
    bool has_content_type = false;
    for (const auto& h : headers) {
        if (lower(h.substr(0, 13)) == "content-type:") has_content_type = true;
        argv.insert(argv.end(), {"-H", h});
    }
    if (!body.empty()) {
        if (!has_content_type) argv.insert(argv.end(), {"-H", "Content-Type: application/json"});
        argv.insert(argv.end(), {"--data-binary", "@-"});
    }
    argv.push_back(url(path, protocol));
    const CommandResult result = run(argv, body);
    if (result.exit_code != 0) {
        HttpResponse failed;
        failed.error = "curl exit " + std::to_string(result.exit_code) + ": " + result.err;
        return failed;
    }
    return parse_curl_output(result.out);
}

}  // namespace pushsync::test
