// SPDX-License-Identifier: BSD-2-Clause
#include "tests/system/shard/cluster.hpp"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "shared/config/config.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"
#include "tests/support/example_conf.hpp"

namespace pushsync::test {
namespace {

namespace fs = std::filesystem;

// Workers of an earlier configuration still finishing their requests after a reload.
bool old_workers_left(pid_t master) {
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        if (!std::getline(stat, line)) continue;
        const auto close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        char state = 0;
        pid_t ppid = -1;
        rest >> state >> ppid;
        if (ppid != master) continue;
        std::ifstream cmd(entry.path() / "cmdline");
        std::string title;
        std::getline(cmd, title, '\0');
        if (title.find("shutting down") != std::string::npos) return true;
    }
    return false;
}

NginxOptions shard_options(const std::string& id, const ApnsSimFixture& sim) {
    NginxOptions n;
    n.queue_capacity = 4096;
    n.store_sync = "interval";  // durability is not what these tests are about; speed is welcome
    n.apps_yaml = "apps:\n  - bundle_id: com.example.app\n    auth:\n      type: token\n      team_id: " + sim.team_id() +
                  "\n      key_id: " + sim.key_id() + "\n      key_file: " + sim.key_file().string() + "\n";
    n.extra_yaml = "delivery:\n  coalesce_ms: 0\n  retry_base_ms: 50\n  retry_max_ms: 400\n  max_attempts: 8\n"
                   "apns:\n  production: " + sim.url() + "\n  sandbox: " + sim.url() +
                   "\n  ca_file: " + sim.ca_file().string() + "\n  request_timeout_ms: 5000\nsender:\n  log_level: info\n";
    // How a shard names itself: a header on every answer of the API, errors included.
    n.api_location_extra = "add_header X-Pushsync-Shard " + id + " always;";
    return n;
}

}  // namespace

fs::path pushsyncctl_binary() {
    return binary_dir() / "cli" / "pushsyncctl";
}

Shard::Shard(std::string id, const ApnsSimFixture& sim) : id_(std::move(id)), nginx(shard_options(id_, sim)) {
    start_sender();
}

Shard::~Shard() {
    if (sender.running()) sender.kill_and_wait(SIGKILL);
}

void Shard::start_sender() {
    auto heartbeat = [&]() -> std::int64_t {
        try {
            return Queue::open_existing(nginx.queue_path().string())->stats().consumer_heartbeat_ms;
        } catch (const std::exception&) {
            return 0;
        }
    };
    const std::int64_t before = heartbeat();
    sender = Process::spawn({(binary_dir() / "sender" / "pushsync-sender").string(), "--config", nginx.config_path().string()},
                            nginx.prefix() / "sender.log");
    if (!wait_until([&] { return heartbeat() > before; }, std::chrono::seconds(20))) {
        throw std::runtime_error("pushsync-sender of shard " + id_ + " did not start:\n" +
                                 read_file(nginx.prefix() / "sender.log"));
    }
}

CommandResult Shard::ctl(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {pushsyncctl_binary().string(), "--config", nginx.config_path().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

std::map<std::string, Device> Shard::devices() const {
    StoreOptions options = StoreOptions::from(load_config(nginx.config_path().string()).store);
    options.read_only = true;
    std::map<std::string, Device> out;
    if (!fs::exists(fs::path(options.path) / "data.mdb")) return out;
    std::stringstream lines;
    Store(options).export_jsonl(lines);
    std::string line;
    while (std::getline(lines, line)) {
        Device d = device_from_json(line);
        out.emplace(d.token, std::move(d));
    }
    return out;
}

std::map<std::string, std::uint64_t> Shard::pushes_sent() const {
    StoreOptions options = StoreOptions::from(load_config(nginx.config_path().string()).store);
    options.read_only = true;
    std::vector<std::string> tokens;
    for (const auto& [token, device] : devices()) tokens.push_back(token);
    std::map<std::string, std::uint64_t> out;
    if (tokens.empty()) return out;
    const auto stats = Store(options).device_stats(tokens);
    for (std::size_t i = 0; i < tokens.size(); ++i) out[tokens[i]] = stats[i].sent;
    return out;
}

std::set<std::string> Shard::groups() const {
    std::set<std::string> out;
    for (const auto& [token, device] : devices()) out.insert(device.group);
    return out;
}

bool Shard::wait_drained(std::chrono::milliseconds timeout) const {
    return wait_until(
        [&] {
            if (Queue::open_existing(nginx.queue_path().string())->stats().depth != 0) return false;
            const CommandResult r = ctl({"stats", "--json"});
            if (r.exit_code != 0) return false;
            const auto j = nlohmann::json::parse(r.out, nullptr, false);
            return j.is_object() && j.value("outbox", 1) == 0;
        },
        timeout, std::chrono::milliseconds(50));
}

std::string ring_of(const std::vector<const Shard*>& shards) {
    std::string ring;
    for (const Shard* shard : shards) ring += "server " + shard->ring_name() + " max_fails=0;\n";
    return ring;
}

Front::Front(const std::string& ring, const std::string& extra_http) : nginx(NginxOptions{.start = false}) {
    const fs::path p = nginx.prefix();
    fs::create_directories(p / "front");
    write_file(p / "front/shards.conf", ring);
    write_file(p / "front/shards-next.conf", ring);
    write_file(p / "front/moving.conf", read_file(source_dir() / "conf/front/moving.conf"));

    write_example_nginx_conf(nginx, "conf/nginx-front.conf", {{"/etc/nginx/pushsync/", (p / "front").string() + "/"}},
                             extra_http);
    nginx.start();
}

void Front::reload_and_settle() {
    const CommandResult t = nginx.test_config();
    if (t.exit_code != 0) throw std::runtime_error("front: nginx -t failed:\n" + t.out + t.err);
    nginx.reload();
    if (!wait_until([&] { return !old_workers_left(nginx.master_pid()); }, std::chrono::seconds(30))) {
        throw std::runtime_error("front: workers of the old configuration did not finish");
    }
}

}  // namespace pushsync::test
