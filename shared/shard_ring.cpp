// SPDX-License-Identifier: BSD-2-Clause
#include "shared/shard_ring.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pushsync {
namespace {

constexpr std::array<std::uint32_t, 256> crc32_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}
constexpr auto table = crc32_table();

// ngx_crc32_update on a running value (init 0xffffffff, final xor 0xffffffff).
std::uint32_t crc32_update(std::uint32_t crc, std::string_view bytes) noexcept {
    for (unsigned char b : bytes) crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
    return crc;
}

// How ngx_http_upstream_init_chash splits a server's text: "unix:PATH" is all host; otherwise
// the digits after the last ':' are the port (none when the text does not end in ":digits").
std::pair<std::string_view, std::string_view> host_and_port(std::string_view server) noexcept {
    if (server.size() >= 5) {
        std::string lower(server.substr(0, 5));
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        if (lower == "unix:") return {server.substr(5), {}};
    }
    for (std::size_t j = 0; j < server.size(); ++j) {
        const char c = server[server.size() - j - 1];
        if (c == ':') return {server.substr(0, server.size() - j - 1), server.substr(server.size() - j)};
        if (c < '0' || c > '9') break;
    }
    return {server, {}};
}

std::string strip_comment(const std::string& line) {
    const auto hash = line.find('#');
    return hash == std::string::npos ? line : line.substr(0, hash);
}

}  // namespace

std::uint32_t crc32(std::string_view bytes) noexcept {
    return crc32_update(0xffffffffu, bytes) ^ 0xffffffffu;
}

std::vector<RingServer> parse_ring_servers(std::string_view text, const std::string& file_name) {
    // Statements end at ';' and may span lines; each is reported at the line it starts on.
    std::vector<RingServer> servers;
    std::vector<std::string> words;
    std::size_t statement_line = 0;
    std::istringstream in{std::string(text)};
    std::string line;
    std::size_t line_number = 0;
    auto fail = [&](const std::string& problem) {
        throw std::invalid_argument(file_name + ":" + std::to_string(statement_line) + ": " + problem);
    };
    auto finish_statement = [&] {
        if (words.empty()) fail("empty statement");
        if (words[0] != "server") {
            words.clear();
            return;
        }
        if (words.size() < 2) fail("server without an address");
        RingServer server{words[1], 1, false};
        for (std::size_t i = 2; i < words.size(); ++i) {
            const std::string& w = words[i];
            if (w == "down") {
                server.down = true;
            } else if (w.rfind("weight=", 0) == 0) {
                const std::string n = w.substr(7);
                if (n.empty() || n.size() > 6 || n.find_first_not_of("0123456789") != std::string::npos ||
                    std::stoul(n) == 0) {
                    fail("server " + server.name + ": invalid weight \"" + n + "\"");
                }
                server.weight = static_cast<unsigned>(std::stoul(n));
            } else if (w == "backup") {
                fail("server " + server.name + ": \"backup\" cannot be used with hash (nginx refuses it)");
            }
            // max_fails=, fail_timeout=, max_conns=, resolve…: they change no point on the ring.
        }
        servers.push_back(std::move(server));
        words.clear();
    };
    while (std::getline(in, line)) {
        ++line_number;
        std::string rest = strip_comment(line);
        std::size_t pos = 0;
        while (pos < rest.size()) {
            const char c = rest[pos];
            if (c == ' ' || c == '\t' || c == '\r') {
                ++pos;
            } else if (c == ';') {
                if (words.empty()) statement_line = line_number;
                finish_statement();
                ++pos;
            } else if (c == '{' || c == '}' || c == '"' || c == '\'') {
                statement_line = line_number;
                fail(std::string("unexpected '") + c + "' (the file holds the lines inside upstream{})");
            } else {
                const std::size_t end = rest.find_first_of(" \t\r;", pos);
                if (words.empty()) statement_line = line_number;
                words.push_back(rest.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
                pos = end == std::string::npos ? rest.size() : end;
            }
        }
    }
    if (!words.empty()) fail("statement without a closing ';'");
    if (servers.empty()) {
        statement_line = line_number;
        fail("no server statement");
    }
    return servers;
}

std::vector<RingServer> load_ring_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw std::invalid_argument(path + ": cannot read");
    std::ostringstream text;
    text << file.rdbuf();
    return parse_ring_servers(text.str(), path);
}

ShardRing::ShardRing(std::vector<RingServer> servers) : servers_(std::move(servers)) {
    if (servers_.empty()) throw std::invalid_argument("a ring needs at least one server");
    for (std::size_t s = 0; s < servers_.size(); ++s) {
        // crc32(HOST \0 PORT PREV_HASH) for 160 points per unit of weight, PREV_HASH starting at 0
        // and then the previous point's hash in little-endian bytes.
        const auto [host, port] = host_and_port(servers_[s].name);
        std::uint32_t base = crc32_update(0xffffffffu, host);
        base = crc32_update(base, std::string_view("\0", 1));
        base = crc32_update(base, port);
        std::uint32_t prev = 0;
        for (unsigned j = 0; j < servers_[s].weight * 160; ++j) {
            const char bytes[4] = {static_cast<char>(prev & 0xff), static_cast<char>((prev >> 8) & 0xff),
                                   static_cast<char>((prev >> 16) & 0xff), static_cast<char>((prev >> 24) & 0xff)};
            const std::uint32_t hash = crc32_update(base, std::string_view(bytes, 4)) ^ 0xffffffffu;
            points_.push_back({hash, s});
            prev = hash;
        }
    }
    // glibc's qsort (ngx_qsort) sorts equal elements stably, and nginx keeps the first of a run of
    // equal hashes.
    std::stable_sort(points_.begin(), points_.end(), [](const Point& a, const Point& b) { return a.hash < b.hash; });
    points_.erase(std::unique(points_.begin(), points_.end(), [](const Point& a, const Point& b) { return a.hash == b.hash; }),
                  points_.end());
}

const RingServer* ShardRing::owner(std::string_view key) const noexcept {
    // ngx_http_upstream_init_chash_peer: the first point at or above the key's hash, wrapping;
    // get_chash_peer walks on while the point's server is down. Peers are matched by name, so
    // two lines naming the same address share their points.
    const std::uint32_t hash = crc32(key);
    const auto first = std::lower_bound(points_.begin(), points_.end(), hash,
                                        [](const Point& p, std::uint32_t h) { return p.hash < h; });
    const std::size_t start = static_cast<std::size_t>(first - points_.begin());
    for (std::size_t t = 0; t < points_.size(); ++t) {
        const RingServer& named = servers_[points_[(start + t) % points_.size()].server];
        for (const RingServer& server : servers_) {
            if (server.name == named.name && !server.down) return &server;
        }
    }
    return nullptr;
}

}  // namespace pushsync
