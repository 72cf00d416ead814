// SPDX-License-Identifier: BSD-2-Clause
// $pushsync_log_uri through a real nginx: the access log shows the request line with each token
// cut to 8 characters over every protocol, and so does the `request: "…"` nginx appends to its
// error-log lines in a server with a pushsync location; a line refused before the module ran is
// cut in the variable.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <set>

#include "tests/ngx_module/test_helpers.hpp"
#include "tests/support/hidden_tokens.hpp"

namespace pushsync::test {
namespace {

const std::string both_format = "log_format both '$pushsync_log_uri|$request|$status'; access_log logs/both.log both;";

// Sends `raw` on a new connection and reads until nginx closes it: for requests curl will not send.
std::string send_raw(int port, const std::string& raw) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string answer;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(raw.size())) {
        char buf[4096];
        for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return answer;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t at = 0;
    for (std::size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) out.push_back(text.substr(at, nl - at));
    return out;
}

TEST(ModuleLogUri, TheAccessAndErrorLogsShowTokenPrefixesOverEveryProtocol) {
    NginxFixture nginx(NginxOptions{.http_extra = both_format});
    std::set<std::string> tokens;
    std::vector<std::string> expected;
    unsigned n = 0;
    for (const Protocol protocol : all_protocols) {
        const std::string version = protocol == Protocol::http1 ? "HTTP/1.1" : "HTTP/2.0";
        const std::string token = make_token(++n, 'c');
        tokens.insert(token);
        const std::string cut = token.substr(0, 8) + "...";
        ASSERT_TRUE(answers(nginx.request("PUT", "/v1/groups/g-1/devices/" + token, register_body(), {}, protocol), 201));
        ASSERT_TRUE(answers(nginx.request("DELETE", "/v1/groups/g-1/devices/" + token, {}, {}, protocol), 204));
        ASSERT_TRUE(answers(nginx.request("GET", "/v1/groups/g-1/devices/" + token + "/x", {}, {}, protocol), 404));
        ASSERT_TRUE(answers(nginx.request("GET", "/v1/groups/g-1/devices?limit=5", {}, {}, protocol), 404));
        for (const std::string& line : {"PUT /v1/groups/g-1/devices/" + cut + " " + version + "|201",
                                       "DELETE /v1/groups/g-1/devices/" + cut + " " + version + "|204",
                                       "GET /v1/groups/g-1/devices/" + cut + "/x " + version + "|404",
                                       "GET /v1/groups/g-1/devices?limit=5 " + version + "|404"}) {
            // $pushsync_log_uri, then $request: the module cut the line itself before any log.
            const auto bar = line.find('|');
            expected.push_back(line.substr(0, bar) + "|" + line.substr(0, bar) + line.substr(bar));
        }
    }
    EXPECT_EQ(lines_of(read_file(nginx.prefix() / "logs/both.log")), expected);
    // The error log has the module's lines about them, and nginx's request context is cut too.
    const std::string error_log = nginx.error_log();
    EXPECT_NE(error_log.find("request: \"PUT /v1/groups/g-1/devices/cccccccc... HTTP/1.1\""), std::string::npos)
        << error_log;
    EXPECT_EQ(describe(full_tokens_in_files(tokens, nginx_logs(nginx))), "");
}

TEST(ModuleLogUri, ALineRefusedBeforeTheModuleRanIsCutInTheVariable) {
    NginxFixture nginx(NginxOptions{.http_extra = both_format});
    const std::string token = make_token(7, 'd');
    // A header too large for nginx's buffers: 400 (494) after the line was read.
    std::string answer = send_raw(nginx.http_port(), "PUT /v1/groups/g/devices/" + token + " HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                                        std::string(20000, 'x') + "\r\n\r\n");
    EXPECT_NE(answer.find(" 400 "), std::string::npos) << answer.substr(0, 200);
    // A byte no request line may hold: 400 while the line was being read.
    answer = send_raw(nginx.http_port(), "PUT /v1/groups/g/devices/" + token + "\x01 HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(answer.find(" 400 "), std::string::npos) << answer.substr(0, 200);
    ASSERT_TRUE(wait_until([&] { return lines_of(read_file(nginx.prefix() / "logs/both.log")).size() == 2; }));
    const auto lines = lines_of(read_file(nginx.prefix() / "logs/both.log"));
    EXPECT_EQ(lines[0].substr(0, lines[0].find('|')), "PUT /v1/groups/g/devices/dddddddd... HTTP/1.1") << lines[0];
    EXPECT_EQ(lines[1].substr(0, lines[1].find('|')).rfind("PUT /v1/groups/g/devices/dddddddd...", 0), 0u) << lines[1];
    EXPECT_EQ(describe(full_tokens_in_files({token}, {nginx.prefix() / "logs/access.log"})), "");
}

}  // namespace
}  // namespace pushsync::test
