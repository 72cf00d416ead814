// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// End to end: real nginx with the module (NginxFixture), the real pushsync-sender binary, and
// apns-sim (ApnsSimFixture) — with Options::fcm also fcm-sim (FcmSimFixture) and an Android app
// of the same bundle_id — all on loopback, sharing one pushsync.yaml.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "shared/device.hpp"
#include "shared/queue/queue.hpp"
#include "tests/support/apns_sim_fixture.hpp"
#include "tests/support/fcm_sim_fixture.hpp"
#include "tests/support/hidden_tokens.hpp"
#include "tests/support/nginx_fixture.hpp"
#include "tests/support/process.hpp"

namespace pushsync::sender::e2e {

using namespace pushsync::test;
using pushsync::now_unix_ms;

// "name{labels}" -> value, for every sample line of a Prometheus text page.
inline std::map<std::string, double> samples(const std::string& page) {
    std::map<std::string, double> out;
    std::istringstream in(page);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto space = line.rfind(' ');
        out[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return out;
}


struct Stack {
    struct Options {
        std::string delivery = "  coalesce_ms: 0\n  retry_base_ms: 50\n  retry_max_ms: 400\n  max_attempts: 8\n";
        std::uint32_t request_timeout_ms = 2000;
        bool start_nginx = true;
        bool start_sender = true;
        std::uint32_t queue_capacity = 4096;
        std::string key_file{};  // instead of the simulator's .p8 (never delete that one: tests share it)
        std::string nginx_server_extra{};  // more locations in nginx's server{} (NginxOptions::server_extra)
        std::string nginx_http_extra{};    // more lines in nginx's http{} (NginxOptions::http_extra)
        bool nginx_daemon = false;         // NginxOptions::daemon, for upgrade_binary()
        ApnsSimOptions sim_options{};
        bool check_logs = true;  // the hidden-token check at teardown (hidden_tokens.hpp)
        bool fcm = false;        // fcm-sim and an fcm app com.example.app beside the apns one
        FcmSimOptions fcm_options{};
        std::string fcm_yaml{};  // more lines inside fcm: ("  max_streams: 2\n")
    };

    explicit Stack(Options o)
        : options(std::move(o)), sim(options.sim_options),
          fcm_sim(options.fcm ? std::make_unique<FcmSimFixture>(options.fcm_options) : nullptr),
          nginx(nginx_options()) {
        if (options.start_sender) start_sender();
    }
    Stack() : Stack(Options{}) {}
    ~Stack() {
        if (sender.running()) sender.kill_and_wait(9);
        if (!options.check_logs) return;
        try {
            const std::string found = full_tokens_in_logs();
            if (!found.empty()) ADD_FAILURE() << "a full token in a log:\n" << found;
        } catch (const std::exception& e) {
            ADD_FAILURE() << "the hidden-token check failed: " << e.what();
        }
    }

    NginxOptions nginx_options() {
        NginxOptions n;
        n.queue_capacity = options.queue_capacity;
        n.start = options.start_nginx;
        n.server_extra = options.nginx_server_extra;
        n.http_extra = options.nginx_http_extra;
        n.daemon = options.nginx_daemon;
        n.apps_yaml = "apps:\n  - bundle_id: com.example.app\n    auth:\n      type: token\n      team_id: " +
                      sim.team_id() + "\n      key_id: " + sim.key_id() + "\n      key_file: " +
                      (options.key_file.empty() ? sim.key_file().string() : options.key_file) + "\n";
        n.extra_yaml = "delivery:\n" + options.delivery + "apns:\n  production: " + sim.url() +
                       "\n  sandbox: " + sim.url() + "\n  ca_file: " + sim.ca_file().string() +
                       "\n  request_timeout_ms: " + std::to_string(options.request_timeout_ms) +
                       "\nsender:\n  log_level: debug\n";
        if (fcm_sim) {
            n.apps_yaml += "  - bundle_id: com.example.app\n    platform: fcm\n    auth:\n      type: service_account\n"
                           "      file: " + fcm_sim->service_account().file.string() + "\n";
            n.extra_yaml += "fcm:\n  endpoint: " + fcm_sim->url() + "\n  token_uri: " + fcm_sim->token_uri() +
                            "\n  ca_file: " + fcm_sim->ca_file().string() + "\n  request_timeout_ms: " +
                            std::to_string(options.request_timeout_ms) + "\n" + options.fcm_yaml;
        }
        return n;
    }

    static std::filesystem::path sender_binary() { return binary_dir() / "sender" / "pushsync-sender"; }
    std::filesystem::path sender_log() const { return nginx.prefix() / "sender.log"; }

    void start_sender() {
        sender = Process::spawn({sender_binary().string(), "--config", nginx.config_path().string()}, sender_log());
        // Up once its heartbeat is in the queue header.
        const bool up = wait_until([&] { return heartbeat() > started_heartbeat_after_; });
        if (!up) throw std::runtime_error("pushsync-sender did not start:\n" + read_file(sender_log()));
        started_heartbeat_after_ = heartbeat();
    }
    int stop_sender(int sig = SIGTERM) {
        sender.signal(sig);
        return sender.wait(std::chrono::seconds(20));
    }

    std::int64_t heartbeat() const {
        if (!std::filesystem::exists(nginx.queue_path())) return 0;
        try {
            return Queue::open_existing(nginx.queue_path().string())->stats().consumer_heartbeat_ms;
        } catch (const std::exception&) {
            return 0;
        }
    }
    std::uint64_t counter(Counter c) const {
        return Queue::open_existing(nginx.queue_path().string())->stats().counters[static_cast<unsigned>(c)];
    }

    void register_device(const std::string& group, const std::string& token) {
        tokens.insert(token);
        const auto r = nginx.request("PUT", "/v1/groups/" + group + "/devices/" + token,
                                     R"({"bundle_id":"com.example.app"})");
        ASSERT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body << r.error;
    }
    void register_fcm_device(const std::string& group, const std::string& token) {
        tokens.insert(token);
        const auto r = nginx.request("PUT", "/v1/groups/" + group + "/devices/" + token,
                                     R"({"platform":"fcm","bundle_id":"com.example.app"})");
        ASSERT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body << r.error;
    }
    void notify(const std::string& group, const std::string& tail, const std::string& origin = "") {
        if (!origin.empty()) tokens.insert(origin);
        const std::string body = origin.empty() ? R"({"tail":")" + tail + "\"}"
                                                : R"({"tail":")" + tail + R"(","origin":")" + origin + "\"}";
        const auto r = nginx.request("POST", "/v1/groups/" + group + "/notify", body);
        ASSERT_EQ(r.status, 202) << r.body << r.error;
    }

    // Registers many devices at once through `pushsyncctl import` (nginx serves the notifies);
    // returns its exit code.
    int import_devices(const std::vector<std::pair<std::string, std::string>>& token_group) {
        std::string jsonl;
        for (const auto& [token, group] : token_group) {
            tokens.insert(token);
            // An FCM token holds a ':', an APNs token never does.
            const std::string platform = token.find(':') == std::string::npos ? "apns" : "fcm";
            jsonl += R"({"token":")" + token + R"(","group":")" + group + R"(","platform":")" + platform +
                     R"(","bundle_id":"com.example.app","environment":"production",)" +
                     R"("registered_at":"2026-11-26T09:00:00Z","last_seen":"2026-11-26T09:00:00Z"})" + "\n";
        }
        write_file(nginx.prefix() / "devices.jsonl", jsonl);
        return run({(binary_dir() / "cli" / "pushsyncctl").string(), "--config", nginx.config_path().string(), "import",
                    (nginx.prefix() / "devices.jsonl").string()})
            .exit_code;
    }

    // pushsyncctl with this stack's config; its output is kept for the hidden-token check, as
    // what a timer's run of it writes goes to the journal.
    CommandResult ctl(std::vector<std::string> args) {
        args.insert(args.begin(), {(binary_dir() / "cli" / "pushsyncctl").string(), "--config",
                                   nginx.config_path().string()});
        CommandResult r = run(args);
        const std::string name = "pushsyncctl" + (args.size() > 3 ? " " + args[3] : std::string());
        cli_output.emplace_back(name + " stdout", r.out);
        cli_output.emplace_back(name + " stderr", r.err);
        return r;
    }

    // "FILE:LINE: …" for every full token (registered here, passed as origin, or pushed to by
    // the sender) in nginx's logs, the sender's log or pushsyncctl's output; "" when none.
    std::string full_tokens_in_logs() const {
        std::set<std::string> all = tokens;
        try {
            for (const auto& e : sim.request_log(0)) {
                if (e.contains("token") && e["token"].is_string()) all.insert(e["token"].get<std::string>());
            }
        } catch (const std::exception&) {
            // a simulator the test stopped: the tokens it was handed are in `tokens`
        }
        if (fcm_sim) {
            try {
                for (const auto& e : fcm_sim->request_log(0)) {
                    if (e.contains("token") && e["token"].is_string() && !e["token"].get<std::string>().empty()) {
                        all.insert(e["token"].get<std::string>());
                    }
                }
            } catch (const std::exception&) {
                // as above
            }
        }
        auto files = nginx_logs(nginx);
        files.push_back(sender_log());
        std::string found = describe(full_tokens_in_files(all, files));
        for (const auto& [name, text] : cli_output) found += describe(full_tokens_in_text(all, name, text));
        return found;
    }

    // The simulator's request log: every request, in arrival order.
    std::vector<nlohmann::json> requests() const {
        std::vector<nlohmann::json> out;
        for (const auto& e : sim.request_log(0)) out.push_back(e);
        return out;
    }
    std::vector<nlohmann::json> requests_for(const std::string& token) const {
        std::vector<nlohmann::json> out;
        for (const auto& e : sim.request_log(0))
            if (e.value("token", "") == token) out.push_back(e);
        return out;
    }
    std::size_t delivered_to(const std::string& token) const {
        std::size_t n = 0;
        for (const auto& e : requests_for(token)) n += e.value("status", 0) == 200;
        return n;
    }
    // Waits until the sender has finished every notify it took: the outbox is empty.
    bool wait_outbox_empty(std::chrono::milliseconds timeout = std::chrono::seconds(20)) const {
        return wait_until(
            [&] {
                // The queue first: an entry leaves it only once it is in the outbox.
                if (Queue::open_existing(nginx.queue_path().string())->stats().depth != 0) return false;
                const auto r = run({(binary_dir() / "cli" / "pushsyncctl").string(), "--config",
                                    nginx.config_path().string(), "stats", "--json"});
                if (r.exit_code != 0) return false;
                const auto j = nlohmann::json::parse(r.out, nullptr, false);
                return j.is_object() && j.contains("outbox") && j["outbox"] == 0;
            },
            timeout, std::chrono::milliseconds(20));
    }

    // fcm-sim's requests that are sends (not token fetches), in arrival order.
    std::vector<nlohmann::json> fcm_sends() const {
        std::vector<nlohmann::json> out;
        if (!fcm_sim) return out;
        for (const auto& e : fcm_sim->request_log(0))
            if (e.value("endpoint", "") == "send") out.push_back(e);
        return out;
    }
    std::size_t fcm_delivered_to(const std::string& token) const {
        std::size_t n = 0;
        for (const auto& e : fcm_sends()) n += e.value("token", "") == token && e.value("status", 0) == 200;
        return n;
    }

    Options options;
    ApnsSimFixture sim;
    std::unique_ptr<FcmSimFixture> fcm_sim;  // with Options::fcm
    NginxFixture nginx;
    Process sender;
    // Every full token this stack handed to nginx or pushsyncctl (tests add their own).
    std::set<std::string> tokens;
    std::vector<std::pair<std::string, std::string>> cli_output;  // name, text

private:
    std::int64_t started_heartbeat_after_ = 0;
};

// How often `what` occurs in `text`.
inline std::size_t count_in(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// SIGHUP, then waits until the sender logged `event` once more than before.
inline bool reload_sender(Stack& s, const std::string& event) {
    const std::size_t before = count_in(read_file(s.sender_log()), event);
    s.sender.signal(SIGHUP);
    return wait_until([&] { return count_in(read_file(s.sender_log()), event) > before; }, std::chrono::seconds(20));
}

inline std::string token(int i, char fill = 'a') {
    std::string t = std::to_string(i);
    return std::string(64 - t.size(), fill) + t;
}

}  // namespace pushsync::sender::e2e
