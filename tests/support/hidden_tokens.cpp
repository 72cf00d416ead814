// SPDX-License-Identifier: BSD-2-Clause
#include "tests/support/hidden_tokens.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "tests/support/nginx_fixture.hpp"

namespace pushsync::test {
namespace {

constexpr std::size_t shortest_full_token = 16;
constexpr std::size_t shown_line = 300;

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The line with every %XX decoded: a %-escaped token in a request line is as readable as a plain one.
std::string percent_decoded(std::string_view line) {
    std::string out;
    out.reserve(line.size());
    for (std::size_t i = 0; i < line.size(); ++i) {
        const int hi = line[i] == '%' && i + 2 < line.size() ? hex_value(line[i + 1]) : -1;
        const int lo = hi >= 0 ? hex_value(line[i + 2]) : -1;
        if (lo >= 0) {
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += line[i];
        }
    }
    return out;
}

std::vector<std::string> searched(const std::set<std::string>& tokens) {
    std::vector<std::string> out;
    for (const auto& t : tokens) {
        if (t.size() >= shortest_full_token) out.push_back(lowercase(t));
    }
    return out;
}

void scan(const std::vector<std::string>& tokens, std::string_view name, std::istream& in,
          std::vector<TokenSighting>& out) {
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
        const std::string folded = lowercase(line);
        const std::string decoded = lowercase(percent_decoded(line));
        for (const auto& t : tokens) {
            if (folded.find(t) == std::string::npos && decoded.find(t) == std::string::npos) continue;
            out.push_back({std::string(name), n, line.substr(0, shown_line)});
            break;
        }
    }
}

}  // namespace

std::vector<TokenSighting> full_tokens_in_files(const std::set<std::string>& tokens,
                                                const std::vector<std::filesystem::path>& files) {
    const auto wanted = searched(tokens);
    std::vector<TokenSighting> out;
    if (wanted.empty()) return out;
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        if (in) scan(wanted, f.string(), in, out);
    }
    return out;
}

std::vector<TokenSighting> full_tokens_in_text(const std::set<std::string>& tokens, std::string_view name,
                                               std::string_view text) {
    const auto wanted = searched(tokens);
    std::vector<TokenSighting> out;
    std::istringstream in{std::string(text)};
    if (!wanted.empty()) scan(wanted, name, in, out);
    return out;
}

std::vector<std::filesystem::path> nginx_logs(const NginxFixture& nginx) {
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(nginx.prefix() / "logs", ec)) {
        if (e.path().extension() == ".log") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string describe(const std::vector<TokenSighting>& sightings) {
    std::string out;
    for (const auto& s : sightings) out += s.file + ":" + std::to_string(s.line) + ": full token in: " + s.text + "\n";
    return out;
}

}  // namespace pushsync::test
