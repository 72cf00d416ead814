// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A real nginx with the pushsync module, in a temp prefix: pushsync.yaml and nginx.conf written
// by the fixture, plain HTTP/1.1, h2c and TLS h2 (self-signed cert made with openssl) on free
// loopback ports. Requests go through the curl binary, so what is tested is the wire.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/process.hpp"

namespace pushsync::test {

enum class Protocol { http1, h2c, h2_tls };
std::string_view to_string(Protocol protocol) noexcept;
inline constexpr Protocol all_protocols[] = {Protocol::http1, Protocol::h2c, Protocol::h2_tls};

struct HttpResponse {
    int status = 0;  // 0: curl failed (see error)
    std::map<std::string, std::string> headers;  // names in lowercase
    std::string body;
    std::string error;  // curl's stderr when status is 0
    std::string protocol;  // "HTTP/1.1", "HTTP/2"
    std::string header(std::string_view name) const;  // "" when absent
};

struct NginxOptions {
    int workers = 2;
    std::uint32_t queue_capacity = 1024;
    std::string store_sync = "always";  // store.sync in pushsync.yaml
    std::string map_size = "64MiB";
    // Replaces the default apps: section (com.example.app both environments,
    // com.example.prodonly production only); give the whole "apps:\n  - …" text.
    std::string apps_yaml{};
    std::string main_extra{};           // at main level (thread_pool, env, …)
    std::string extra_yaml{};           // appended to pushsync.yaml (delivery:, apns:, sender:, …)
    std::string store_yaml{};           // more lines inside store: ("  reserve_percent: 50\n")
    std::string http_extra{};           // inside http{} (limit_req_zone, split_clients, map, …)
    std::string server_extra{};         // inside server{} (more locations)
    std::string api_location_extra{};   // inside "location /v1/ { pushsync_api; … }"
    std::string error_log_level = "info";
    int thread_pool_threads = 4;
    bool start = true;                // false: call start() yourself
    // The master detaches (daemon on), which upgrade_binary() needs: nginx ignores USR2 in a
    // master whose parent is still the process that started it.
    bool daemon = false;
    // More environment for the master, which its workers inherit (LD_PRELOAD of a fault injector).
    std::map<std::string, std::string> environment{};
};

class NginxFixture {
public:
    explicit NginxFixture(NginxOptions options = {});
    ~NginxFixture();
    NginxFixture(const NginxFixture&) = delete;
    NginxFixture& operator=(const NginxFixture&) = delete;

    // Starts nginx and waits for the ports and the workers; throws std::runtime_error with the
    // error log when it does not come up.
    void start();
    // Graceful stop (SIGQUIT), waits for the master to exit.
    void stop();
    // SIGHUP; returns once a full new set of workers runs (old ones may still be finishing).
    void reload();
    // The binary upgrade of nginx's docs (options().daemon only): USR2 starts a new master from
    // the same binary on the inherited sockets; once its workers run, the old master is stopped
    // gracefully (QUIT). Returns once only the new master is left.
    void upgrade_binary();
    bool running();

    pid_t master_pid() const noexcept { return master_.pid(); }
    // The current generation's workers (not those "shutting down").
    std::vector<pid_t> worker_pids() const;
    std::filesystem::path pid_file_path() const { return dir_ / "logs/nginx.pid"; }

    // method, path ("/v1/groups/g/devices"), body (sent when non-empty, with
    // Content-Type: application/json unless `headers` has a Content-Type line; "Content-Type:"
    // sends none), extra header lines "Name: value".
    HttpResponse request(std::string_view method, std::string_view path, std::string_view body = {},
                         const std::vector<std::string>& headers = {}, Protocol protocol = Protocol::http1) const;
    // The curl command line request() would run (for benchmarks and debugging).
    std::string url(std::string_view path, Protocol protocol = Protocol::http1) const;

    const std::filesystem::path& prefix() const noexcept { return dir_.path(); }
    std::filesystem::path config_path() const { return dir_ / "pushsync.yaml"; }
    std::filesystem::path nginx_conf_path() const { return dir_ / "conf/nginx.conf"; }
    std::filesystem::path store_path() const { return dir_ / "store"; }
    std::filesystem::path queue_path() const { return dir_ / "queue"; }
    std::filesystem::path cert_path() const { return dir_ / "conf/cert.pem"; }
    std::filesystem::path error_log_path() const { return dir_ / "logs/error.log"; }
    std::string error_log() const { return read_file(error_log_path()); }
    int http_port() const noexcept { return http_port_; }
    int h2c_port() const noexcept { return h2c_port_; }
    int tls_port() const noexcept { return tls_port_; }
    const NginxOptions& options() const noexcept { return options_; }

    // The built module: binary_dir()/ngx_module/ngx_http_pushsync_module.so
    static std::filesystem::path module_path();
    // `nginx -t` on this prefix's config: exit code and output.
    CommandResult test_config() const;

private:
    void write_files();
    std::vector<std::string> nginx_argv() const;
    std::vector<pid_t> workers_of(pid_t master) const;
    pid_t pid_in_file() const;  // 0 when absent or unreadable

    NginxOptions options_;
    TempDir dir_;
    int http_port_ = 0;
    int h2c_port_ = 0;
    int tls_port_ = 0;
    Process master_;
};

}  // namespace pushsync::test
