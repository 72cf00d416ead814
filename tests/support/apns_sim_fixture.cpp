// SPDX-License-Identifier: BSD-2-Clause
#include "tests/support/apns_sim_fixture.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

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

// One HTTP/1.1 request to 127.0.0.1:port; the control API closes after each answer.
ControlResponse http_request(int port, const std::string& method, const std::string& path, const std::string& body) {
    ControlResponse out;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return out;
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return out;
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
                      "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    std::size_t sent = 0;
    while (sent < req.size()) {
        ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return out;
        sent += static_cast<std::size_t>(n);
    }
    std::string resp;
    char buf[16384];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 10000) <= 0) return out;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0) return out;
        if (n == 0) break;
        resp.append(buf, static_cast<std::size_t>(n));
    }
    auto head_end = resp.find("\r\n\r\n");
    if (resp.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) return out;
    out.status = std::stoi(resp.substr(9, 3));
    out.body = resp.substr(head_end + 4);
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

ApnsSimFixture::~ApnsSimFixture() {
    if (process_.pid() > 0 && process_.running()) {
        process_.signal(SIGTERM);
        if (process_.wait(std::chrono::seconds(5)) < 0) process_.kill_and_wait();
    }
}

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
    std::string last_error;
    // free_tcp_port() can race with other tests: retry with new ports when the bind loses.
    for (int attempt = 0; attempt < 3; ++attempt) {
        port_ = free_tcp_port();
        control_port_ = free_tcp_port();
        if (control_port_ == port_) continue;
        process_ = Process::spawn(command(), stderr_file());
        bool up = wait_until([&] { return !process_.running() || control("GET", "/health").status == 200; },
                             std::chrono::seconds(10));
        // The APNs port is bound before the control port, so /health answering means both are up
        // (no probe connection on the APNs port that would show in the counters).
        if (up && process_.running()) return;
        last_error = read_file(stderr_file());
        if (process_.running()) process_.kill_and_wait();
    }
    throw std::runtime_error("apns-sim did not start: " + last_error);
}

void ApnsSimFixture::stop() {
    if (process_.pid() > 0 && process_.running()) {
        process_.signal(SIGTERM);
        if (process_.wait(std::chrono::seconds(5)) < 0) process_.kill_and_wait();
    }
}

bool ApnsSimFixture::running() { return process_.pid() > 0 && process_.running(); }

ControlResponse ApnsSimFixture::control(const std::string& method, const std::string& path, const std::string& body) const {
    return http_request(control_port_, method, path, body);
}

nlohmann::json ApnsSimFixture::control_json(const std::string& method, const std::string& path, const nlohmann::json& body) const {
    auto r = control(method, path, body.is_null() ? "" : body.dump());
    if (r.status != 200) {
        throw std::runtime_error("apns-sim control " + method + " " + path + " -> " + std::to_string(r.status) + " " + r.body);
    }
    return nlohmann::json::parse(r.body);
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
    return wait_until(
        [&] {
            auto r = control("GET", "/counters");
            if (r.status != 200) return false;
            auto j = nlohmann::json::parse(r.body, nullptr, false);
            return j.is_object() && j.value("log_seq", std::uint64_t{0}) >= n;
        },
        timeout, std::chrono::milliseconds(10));
}

}  // namespace pushsync::test
