// SPDX-License-Identifier: BSD-2-Clause
#include "tests/support/apns_sim_fixture.hpp"

#include <sstream>
#include <stdexcept>

namespace pushsync::test {

namespace {

std::string env_value(const std::string& env, const std::string& key) {
    std::istringstream in(env);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
    }
    return "";
}

std::string join(const std::vector<std::string>& v, char sep) {
    std::string out;
    for (const auto& s : v) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

}  // namespace

// Certificates are the same for every test of a build: made once (devcerts is idempotent and
// locks its directory), which keeps each test's start-up to the simulator itself.
ApnsSimFixture::ApnsSimFixture(ApnsSimOptions options)
    : options_(std::move(options)), certs_(binary_dir() / "apns-sim-devcerts") {
    auto r = run({"bash", (source_dir() / "tools" / "devcerts").string(), certs_.string()}, {},
                 {{"TOKEN_TOPICS", join(options_.topics, ',')}});
    if (r.exit_code != 0) throw std::runtime_error("tools/devcerts failed: " + r.err);
    auto env = read_file(certs_ / "token.env");
    key_id_ = env_value(env, "KEY_ID");
    team_id_ = env_value(env, "TEAM_ID");
    if (options_.start) start();
}

ApnsSimFixture::~ApnsSimFixture() { stop(); }

std::filesystem::path ApnsSimFixture::key_file() const { return certs_ / ("AuthKey_" + key_id_ + ".p8"); }
std::filesystem::path ApnsSimFixture::public_key_file() const { return certs_ / ("AuthKey_" + key_id_ + ".pub.pem"); }
std::string ApnsSimFixture::url() const { return "https://127.0.0.1:" + std::to_string(port_); }

std::vector<std::string> ApnsSimFixture::command() const {
    std::vector<std::string> argv = {
        (binary_dir() / "tools" / "apns-sim" / "apns-sim").string(),
        "--listen", "127.0.0.1:" + std::to_string(port_),
        "--control", "127.0.0.1:" + std::to_string(control_port_),
        "--cert", server_cert_file().string(),
        "--key", server_key_file().string(),
        "--ca", ca_file().string(),
        "--token-key", key_id_ + ":" + team_id_ + ":" + key_file().string() + ":" + join(options_.topics, ','),
        "--environment", options_.environment,
        "--max-streams", std::to_string(options_.max_streams),
        "--log", log_file().string(),
    };
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
    return argv;
}

void ApnsSimFixture::start() {
    start_simulator("apns-sim", process_, port_, control_port_, nullptr, [this] { return command(); }, stderr_file());
}

void ApnsSimFixture::stop() { stop_simulator(process_); }

bool ApnsSimFixture::running() { return process_.pid() > 0 && process_.running(); }

ControlResponse ApnsSimFixture::control(const std::string& method, const std::string& path, const std::string& body) const {
    return control_request(control_port_, method, path, body);
}

nlohmann::json ApnsSimFixture::control_json(const std::string& method, const std::string& path, const nlohmann::json& body) const {
    return control_json_request("apns-sim", control_port_, method, path, body);
}

void ApnsSimFixture::mark_unregistered(const std::string& token, std::int64_t timestamp_ms) const {
    control_json("POST", "/tokens/" + token, {{"state", "unregistered"}, {"timestamp_ms", timestamp_ms}});
}
void ApnsSimFixture::mark_bad(const std::string& token) const { control_json("POST", "/tokens/" + token, {{"state", "bad"}}); }
void ApnsSimFixture::mark_expired(const std::string& token) const {
    control_json("POST", "/tokens/" + token, {{"state", "expired"}});
}
void ApnsSimFixture::mark_topic(const std::string& token, const std::string& topic) const {
    control_json("POST", "/tokens/" + token, {{"state", "valid"}, {"topic", topic}});
}
void ApnsSimFixture::forget_token(const std::string& token) const { control_json("DELETE", "/tokens/" + token); }
std::uint64_t ApnsSimFixture::add_fault(const nlohmann::json& rule) const {
    return control_json("POST", "/faults", rule).at("id").get<std::uint64_t>();
}
void ApnsSimFixture::clear_faults() const { control_json("DELETE", "/faults"); }
void ApnsSimFixture::goaway_all(const nlohmann::json& body) const { control_json("POST", "/goaway", body); }
void ApnsSimFixture::set_clock_offset(std::int64_t seconds) const { control_json("POST", "/clock", {{"offset_s", seconds}}); }
void ApnsSimFixture::reset() const { control_json("POST", "/reset"); }
nlohmann::json ApnsSimFixture::request_log(std::uint64_t since_seq) const {
    return control_json("GET", "/log?since=" + std::to_string(since_seq));
}
nlohmann::json ApnsSimFixture::counters() const { return control_json("GET", "/counters"); }
nlohmann::json ApnsSimFixture::connections() const { return control_json("GET", "/connections"); }

bool ApnsSimFixture::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    return wait_for_log_seq(control_port_, n, timeout);
}

}  // namespace pushsync::test
