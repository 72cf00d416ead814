// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A tools/apns-sim that can be killed and started again ON THE SAME PORT, which the shared
// ApnsSimFixture (new ports on every start) cannot do: for the reconnect test and the benchmark's
// fixed command line. Method names follow ApnsSimFixture. Control API through curl.
#include <filesystem>
#include <map>
#include <stdexcept>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"

namespace pushsync::sender::test {

class SimProcess {
public:
    explicit SimProcess(std::vector<std::string> extra_args = {}) {
        namespace t = pushsync::test;
        auto made = t::run({(t::source_dir() / "tools/devcerts").string(), dir_.path().string()});
        if (made.exit_code != 0) throw std::runtime_error("devcerts failed: " + made.err);
        std::istringstream env(t::read_file(dir_ / "token.env"));
        for (std::string line; std::getline(env, line);) {
            auto eq = line.find('=');
            if (eq != std::string::npos) token_env_[line.substr(0, eq)] = line.substr(eq + 1);
        }
        port_ = t::free_tcp_port();
        control_port_ = t::free_tcp_port();
        while (control_port_ == port_) control_port_ = t::free_tcp_port();
        extra_args_ = std::move(extra_args);
        start();
    }

    void start() {
        namespace t = pushsync::test;
        std::vector<std::string> argv = {
            (t::binary_dir() / "tools/apns-sim/apns-sim").string(),
            "--listen", "127.0.0.1:" + std::to_string(port_),
            "--control", "127.0.0.1:" + std::to_string(control_port_),
            "--cert", (dir_ / "server.pem").string(),
            "--key", (dir_ / "server.key").string(),
            "--ca", (dir_ / "ca.pem").string(),
            "--token-key", key_id() + ":" + team_id() + ":" + key_file().string(),
        };
        argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
        process_ = t::Process::spawn(argv, dir_ / "sim.stderr");
        if (!t::wait_for_port(port_) || !t::wait_for_port(control_port_)) {
            throw std::runtime_error("apns-sim did not start: " + t::read_file(dir_ / "sim.stderr"));
        }
    }
    void kill() { process_.kill_and_wait(9); }

    std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
    std::filesystem::path ca_file() const { return dir_ / "ca.pem"; }
    std::string key_id() const { return token_env_.at("KEY_ID"); }
    std::string team_id() const { return token_env_.at("TEAM_ID"); }
    std::filesystem::path key_file() const { return token_env_.at("KEY_FILE"); }
    std::filesystem::path stderr_file() const { return dir_ / "sim.stderr"; }

    nlohmann::json control_json(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr) {
        std::vector<std::string> argv = {"curl", "-sS", "-X", method,
                                         "http://127.0.0.1:" + std::to_string(control_port_) + path};
        if (!body.is_null()) {
            argv.insert(argv.end(), {"-H", "content-type: application/json", "--data-binary", body.dump()});
        }
        auto result = pushsync::test::run(argv);
        if (result.exit_code != 0) throw std::runtime_error("control " + path + ": " + result.err);
        return nlohmann::json::parse(result.out);
    }
    nlohmann::json request_log() { return control_json("GET", "/log"); }
    nlohmann::json counters() { return control_json("GET", "/counters"); }

private:
    pushsync::test::TempDir dir_;
    std::map<std::string, std::string> token_env_;
    std::vector<std::string> extra_args_;
    int port_ = 0;
    int control_port_ = 0;
    pushsync::test::Process process_;
};

}  // namespace pushsync::sender::test
