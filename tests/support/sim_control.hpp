// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What the simulator fixtures (ApnsSimFixture, FcmSimFixture) share: starting a simulator on free
// ports with retries, stopping it, and its control API (plain HTTP/1.1 JSON, one request per
// connection).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace pushsync::test {

struct ControlResponse {
    int status = 0;  // 0: no answer
    std::string body;
};

// One request to 127.0.0.1:port.
ControlResponse control_request(int port, const std::string& method, const std::string& path, const std::string& body);
// The JSON answer; throws std::runtime_error naming `who` on a non-200 status.
nlohmann::json control_json_request(const std::string& who, int port, const std::string& method, const std::string& path,
                                    const nlohmann::json& body);
// Waits until the control API's /counters says log_seq >= n.
bool wait_for_log_seq(int control_port, std::size_t n, std::chrono::milliseconds timeout);

// Picks two free ports, calls prepare() (files that name them), spawns command() and waits for
// /health on the control port (the service port is bound first). free_tcp_port() can race with
// other tests: retried with new ports when the bind loses. Throws with the simulator's stderr.
void start_simulator(const std::string& who, Process& process, int& port, int& control_port,
                     const std::function<void()>& prepare, const std::function<std::vector<std::string>()>& command,
                     const std::filesystem::path& stderr_file);
void stop_simulator(Process& process);  // SIGTERM, wait, SIGKILL after 5 s

}  // namespace pushsync::test
