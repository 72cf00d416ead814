// SPDX-License-Identifier: BSD-2-Clause
#include "tests/ngx_module/admin/chromium.hpp"

#include <regex>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace pushsync::test {
namespace {

constexpr const char* binary = "/usr/bin/chromium";

std::vector<Chromium::Request> url_requests(const nlohmann::json& log) {
    std::vector<Chromium::Request> out;
    if (!log.is_object() || !log.contains("constants") || !log.contains("events")) return out;
    const auto& types = log["constants"]["logEventTypes"];
    if (!types.contains("URL_REQUEST_START_JOB")) return out;
    const int start_job = types["URL_REQUEST_START_JOB"].get<int>();
    for (const auto& event : log["events"]) {
        if (event.value("type", -1) != start_job || !event.contains("params")) continue;
        const auto& p = event["params"];
        if (!p.contains("url")) continue;  // the job's end: no request of its own
        out.push_back({p.value("url", ""), p.value("initiator", ""), p.value("network_isolation_key", "")});
    }
    return out;
}

}  // namespace

Chromium::Chromium() = default;

bool Chromium::available() {
    return ::access(binary, X_OK) == 0;
}

std::vector<std::string> Chromium::base_args() const {
    // `timeout`: a hung browser fails the test instead of holding ctest until its own timeout.
    // The flags keep chromium's own traffic (updates, sync, safe browsing, ...) off, so the network
    // log holds what the page asked for. --no-sandbox: tests may run as root.
    return {"timeout", "-k", "5", "90", binary, "--headless", "--no-sandbox", "--disable-gpu",
            "--user-data-dir=" + (dir_ / ("profile" + std::to_string(runs_))).string(),
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
            "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
            "--hide-scrollbars", "--mute-audio", "--force-device-scale-factor=1",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"};
}

Chromium::Load Chromium::load(const std::string& url) {
    ++runs_;
    const auto netlog = dir_ / ("netlog" + std::to_string(runs_) + ".json");
    auto args = base_args();
    args.push_back("--log-net-log=" + netlog.string());
    args.push_back("--dump-dom");
    args.push_back(url);
    const CommandResult result = run(args);
    Load load{result.exit_code, result.out, result.err, {}};
    load.requests = url_requests(nlohmann::json::parse(read_file(netlog), nullptr, false));
    return load;
}

int Chromium::screenshot(const std::string& url, const std::filesystem::path& png, int width, int height) {
    ++runs_;
    auto args = base_args();
    args.push_back("--screenshot=" + png.string());
    args.push_back("--window-size=" + std::to_string(width) + "," + std::to_string(height));
    args.push_back(url);
    return run(args).exit_code;
}

}  // namespace pushsync::test
