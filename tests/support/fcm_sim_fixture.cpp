// SPDX-License-Identifier: BSD-2-Clause
#include "tests/support/fcm_sim_fixture.hpp"

#include <stdexcept>


namespace pushsync::test {

FcmSimFixture::FcmSimFixture(FcmSimOptions options)
    : options_(std::move(options)), certs_(binary_dir() / "apns-sim-devcerts") {
    if (options_.projects.empty()) throw std::invalid_argument("FcmSimOptions: at least one project");
    auto r = run({"bash", (source_dir() / "tools" / "devcerts").string(), certs_.string()});
    if (r.exit_code != 0) throw std::runtime_error("tools/devcerts failed: " + r.err);
    for (const auto& project : options_.projects) {
        FcmServiceAccount a;
        a.project_id = project;
        a.client_email = "pushsync-sender@" + project + ".iam.gserviceaccount.com";
        a.private_key_id = "fcmsim" + std::to_string(accounts_.size() + 1) + "0123456789abcdef0123456789abcdef";
        a.file = dir_ / ("service-account-" + project + ".json");
        a.private_key_file = dir_ / ("service-account-" + project + ".key");
        auto k = run({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                      a.private_key_file.string()});
        if (k.exit_code != 0) throw std::runtime_error("openssl genpkey failed: " + k.err);
        accounts_.push_back(std::move(a));
    }
    if (options_.start) start();
}

FcmSimFixture::~FcmSimFixture() { stop(); }

std::string FcmSimFixture::url() const { return "https://127.0.0.1:" + std::to_string(port_); }
std::string FcmSimFixture::token_uri() const { return url() + "/token"; }

const FcmServiceAccount& FcmSimFixture::service_account(const std::string& project_id) const {
    if (project_id.empty()) return accounts_.front();
    for (const auto& a : accounts_) {
        if (a.project_id == project_id) return a;
    }
    throw std::out_of_range("FcmSimFixture: no service account for project " + project_id);
}

void FcmSimFixture::write_service_accounts() {
    for (const auto& a : accounts_) {
        const nlohmann::json j = {{"type", "service_account"},
                                  {"project_id", a.project_id},
                                  {"private_key_id", a.private_key_id},
                                  {"private_key", read_file(a.private_key_file)},
                                  {"client_email", a.client_email},
                                  {"client_id", "100000000000000000001"},
                                  {"auth_uri", "https://accounts.google.com/o/oauth2/auth"},
                                  {"token_uri", token_uri()}};
        write_file(a.file, j.dump(2) + "\n");
    }
}

std::vector<std::string> FcmSimFixture::command() const {
    std::vector<std::string> argv = {
        (binary_dir() / "tools" / "fcm-sim" / "fcm-sim").string(),
        "--listen", "127.0.0.1:" + std::to_string(port_),
        "--control", "127.0.0.1:" + std::to_string(control_port_),
        "--cert", server_cert_file().string(),
        "--key", server_key_file().string(),
        "--token-lifetime-s", std::to_string(options_.token_lifetime_s),
        "--max-streams", std::to_string(options_.max_streams),
        "--log", log_file().string(),
    };
    for (const auto& a : accounts_) {
        argv.push_back("--service-account");
        argv.push_back(a.file.string());
    }
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
    return argv;
}

void FcmSimFixture::start() {
    // the service account files name the port in token_uri: rewritten for each port tried
    start_simulator("fcm-sim", process_, port_, control_port_, [this] { write_service_accounts(); },
                    [this] { return command(); }, stderr_file());
}

void FcmSimFixture::stop() { stop_simulator(process_); }

bool FcmSimFixture::running() { return process_.pid() > 0 && process_.running(); }

ControlResponse FcmSimFixture::control(const std::string& method, const std::string& path, const std::string& body) const {
    return control_request(control_port_, method, path, body);
}

nlohmann::json FcmSimFixture::control_json(const std::string& method, const std::string& path, const nlohmann::json& body) const {
    return control_json_request("fcm-sim", control_port_, method, path, body);
}

void FcmSimFixture::mark_unregistered(const std::string& token, std::int64_t timestamp_ms) const {
    control_json("POST", "/tokens/" + token, {{"state", "unregistered"}, {"timestamp_ms", timestamp_ms}});
}
void FcmSimFixture::mark_unregistered_now(const std::string& token) const {
    control_json("POST", "/tokens/" + token, {{"state", "unregistered"}});
}
void FcmSimFixture::mark_invalid(const std::string& token) const {
    control_json("POST", "/tokens/" + token, {{"state", "invalid"}});
}
void FcmSimFixture::mark_sender_id_mismatch(const std::string& token) const {
    control_json("POST", "/tokens/" + token, {{"state", "sender_id_mismatch"}});
}
void FcmSimFixture::forget_token(const std::string& token) const { control_json("DELETE", "/tokens/" + token); }
std::uint64_t FcmSimFixture::add_fault(const nlohmann::json& rule) const {
    return control_json("POST", "/faults", rule).at("id").get<std::uint64_t>();
}
void FcmSimFixture::clear_faults() const { control_json("DELETE", "/faults"); }
void FcmSimFixture::goaway_all(const nlohmann::json& body) const { control_json("POST", "/goaway", body); }
void FcmSimFixture::expire_access_tokens() const { control_json("POST", "/access_tokens/expire"); }
nlohmann::json FcmSimFixture::access_tokens() const { return control_json("GET", "/access_tokens"); }
void FcmSimFixture::set_clock_offset(std::int64_t seconds) const { control_json("POST", "/clock", {{"offset_s", seconds}}); }
std::int64_t FcmSimFixture::now_s() const { return control_json("GET", "/clock").at("now_s").get<std::int64_t>(); }
void FcmSimFixture::reset() const { control_json("POST", "/reset"); }
nlohmann::json FcmSimFixture::request_log(std::uint64_t since_seq) const {
    return control_json("GET", "/log?since=" + std::to_string(since_seq));
}
nlohmann::json FcmSimFixture::counters() const { return control_json("GET", "/counters"); }
nlohmann::json FcmSimFixture::connections() const { return control_json("GET", "/connections"); }

bool FcmSimFixture::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    return wait_for_log_seq(control_port_, n, timeout);
}

}  // namespace pushsync::test
