// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// nginx's `hash KEY consistent;` ring (ngx_http_upstream_hash_module.c, ketama-like), computed
// outside nginx so pushsyncctl can tell which groups a shard no longer owns — in agreement with
// the front nginx, which reads the same `server …;` lines from the same include file.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pushsync {

// One `server ADDRESS [weight=N] [down] …;` line of an upstream block.
struct RingServer {
    std::string name;  // ADDRESS exactly as written: nginx hashes this text, not the resolved address
    unsigned weight = 1;
    bool down = false;
};

// The `server` statements of an nginx upstream include file; other statements are skipped (the
// file is included inside upstream{}, where `keepalive` and the like may stand too). Throws
// std::invalid_argument "FILE:LINE: problem" for a server statement nginx would refuse.
std::vector<RingServer> parse_ring_servers(std::string_view text, const std::string& file_name);
std::vector<RingServer> load_ring_file(const std::string& path);  // also throws when unreadable

// nginx's ngx_crc32_long: CRC-32 (IEEE 802.3, reflected), as zlib's crc32().
std::uint32_t crc32(std::string_view bytes) noexcept;

class ShardRing {
public:
    explicit ShardRing(std::vector<RingServer> servers);  // throws std::invalid_argument when empty

    // The server the front sends KEY to while every server is up (max_fails=0, as
    // conf/nginx-front.conf has it); nullptr when every server is `down`.
    const RingServer* owner(std::string_view key) const noexcept;
    const std::vector<RingServer>& servers() const noexcept { return servers_; }

private:
    struct Point {
        std::uint32_t hash;
        std::size_t server;
    };
    std::vector<RingServer> servers_;
    std::vector<Point> points_;  // sorted by hash, one per distinct hash
};

}  // namespace pushsync
