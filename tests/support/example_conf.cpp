// SPDX-License-Identifier: BSD-2-Clause
#include "tests/support/example_conf.hpp"

#include <unistd.h>

#include <stdexcept>

#include "tests/support/process.hpp"

namespace pushsync::test {
namespace {

void replace_all(std::string& text, const std::string& example, const std::string& from, const std::string& to) {
    if (text.find(from) == std::string::npos) throw std::runtime_error(example + " no longer contains: " + from);
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
}

}  // namespace

void write_example_nginx_conf(const NginxFixture& nginx, const std::string& example,
                              const std::vector<std::pair<std::string, std::string>>& swaps,
                              const std::string& extra_http) {
    const auto& p = nginx.prefix();
    std::string conf = read_file(source_dir() / example);
    const std::vector<std::pair<std::string, std::string>> fixture_swaps = {
        {"/usr/lib/nginx/modules/ngx_http_pushsync_module.so", NginxFixture::module_path().string()},
        {"user www-data;", geteuid() == 0 ? "user root;" : ""},
        {"worker_processes auto;", "worker_processes 2;\ndaemon off;"},
        {"/run/nginx.pid", (p / "logs/nginx.pid").string()},
        {"/var/log/nginx/", (p / "logs").string() + "/"},
        {"listen 443 ssl http2;",
         "listen 127.0.0.1:" + std::to_string(nginx.tls_port()) + " ssl http2;\n        listen 127.0.0.1:" +
             std::to_string(nginx.http_port()) + ";\n        listen 127.0.0.1:" + std::to_string(nginx.h2c_port()) +
             " http2;"},
        {"listen [::]:443 ssl http2;", ""},
        {"/etc/ssl/certs/sync.example.com.pem", nginx.cert_path().string()},
        {"/etc/ssl/private/sync.example.com.key", (p / "conf/key.pem").string()},
        {"http {", "http {\n    client_body_temp_path " + (p / "tmp/body").string() + ";\n    proxy_temp_path " +
                       (p / "tmp/proxy").string() + ";\n    fastcgi_temp_path " + (p / "tmp/fastcgi").string() +
                       ";\n    uwsgi_temp_path " + (p / "tmp/uwsgi").string() + ";\n    scgi_temp_path " +
                       (p / "tmp/scgi").string() + ";\n" + extra_http},
    };
    for (const auto& [from, to] : fixture_swaps) replace_all(conf, example, from, to);
    for (const auto& [from, to] : swaps) replace_all(conf, example, from, to);
    write_file(nginx.nginx_conf_path(), conf);
}

}  // namespace pushsync::test
