// SPDX-License-Identifier: BSD-2-Clause
#include "tests/tools/apns_sim/sim_test_support.hpp"

#include <cstdio>
#include <sstream>

namespace pushsync::test {

std::string token_n(int n) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016x", n);
    return std::string(48, 'b') + buf;
}

std::string jwt_for(const ApnsSimFixture& sim, std::int64_t iat_offset_s) {
    auto clock = sim.control_json("GET", "/clock");
    return make_jwt(sim.key_file(), sim.key_id(), sim.team_id(), clock.at("now_s").get<std::int64_t>() + iat_offset_s);
}

Headers background_headers(const std::string& jwt) {
    return {{"authorization", "bearer " + jwt},
            {"apns-topic", topic},
            {"apns-push-type", "background"},
            {"apns-priority", "5"},
            {"apns-expiration", "0"}};
}

H2ClientConfig client_config(const ApnsSimFixture& sim) {
    H2ClientConfig c;
    c.port = sim.port();
    c.ca_file = sim.ca_file().string();
    return c;
}

CurlResult curl(const ApnsSimFixture& sim, const std::string& path, const std::vector<std::string>& headers,
                const std::string& body, const std::vector<std::string>& extra_args) {
    std::vector<std::string> argv = {"curl", "-sS", "--http2", "--cacert", sim.ca_file().string(), "-D", "-",
                                     "--max-time", "10"};
    for (const auto& h : headers) {
        argv.push_back("-H");
        argv.push_back(h);
    }
    if (!body.empty()) {
        argv.push_back("--data-binary");
        argv.push_back("@-");
    }
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    argv.push_back(sim.url() + path);
    auto r = run(argv, body);
    CurlResult out;
    out.exit_code = r.exit_code;
    out.err = r.err;
    auto head_end = r.out.find("\r\n\r\n");
    if (head_end == std::string::npos) return out;
    std::istringstream head(r.out.substr(0, head_end));
    std::string line;
    std::getline(head, line);
    auto sp = line.find(' ');
    out.http_version = line.substr(0, sp);
    if (sp != std::string::npos) out.status = std::stoi(line.substr(sp + 1, 3));
    while (std::getline(head, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        out.headers[name] = value;
    }
    out.body = r.out.substr(head_end + 4);
    return out;
}

void SharedSim::SetUpTestSuite() { sim_ = std::make_unique<ApnsSimFixture>(); }
void SharedSim::TearDownTestSuite() { sim_.reset(); }
void SharedSim::SetUp() { sim().reset(); }

}  // namespace pushsync::test
