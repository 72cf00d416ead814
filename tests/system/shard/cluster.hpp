// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Real processes for the shard tests: shards (nginx + module + pushsync-sender, each with its own
// store and queue, all pushing to one apns-sim) and a front nginx running conf/nginx-front.conf
// as shipped, with only paths and ports swapped.
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "shared/device.hpp"
#include "tests/support/apns_sim_fixture.hpp"
#include "tests/support/nginx_fixture.hpp"
#include "tests/support/process.hpp"

namespace pushsync::test {

std::filesystem::path pushsyncctl_binary();

class Shard {
public:
    // `id` is what the shard answers in X-Pushsync-Shard (how a shard names itself).
    Shard(std::string id, const ApnsSimFixture& sim);
    ~Shard();

    const std::string& id() const noexcept { return id_; }
    // Its line in the front's ring: the address text nginx hashes.
    std::string ring_name() const { return "127.0.0.1:" + std::to_string(nginx.http_port()); }

    void start_sender();
    // pushsyncctl --config <this shard's yaml> ARGS…
    CommandResult ctl(const std::vector<std::string>& args) const;
    // Every device in the store, by token (a read-only open beside nginx and the sender).
    std::map<std::string, Device> devices() const;
    std::set<std::string> groups() const;
    // Pushes APNs accepted per device, from the store's delivery statistics (0 when none).
    std::map<std::string, std::uint64_t> pushes_sent() const;
    // The queue and the outbox are empty: the sender finished every notify it accepted.
    bool wait_drained(std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;

private:
    std::string id_;  // before nginx: its options name the shard

public:
    NginxFixture nginx;
    Process sender;
};

class Front {
public:
    // `ring`: the shards.conf text (server lines). `extra_http`: more text inside http{}.
    explicit Front(const std::string& ring, const std::string& extra_http = "");

    int port() const noexcept { return nginx.http_port(); }
    std::filesystem::path ring_file() const { return nginx.prefix() / "front/shards.conf"; }
    std::filesystem::path next_ring_file() const { return nginx.prefix() / "front/shards-next.conf"; }
    std::filesystem::path moving_file() const { return nginx.prefix() / "front/moving.conf"; }

    // Reloads and waits until no worker of the previous configuration is left, so every request
    // from then on is handled by the new one.
    void reload_and_settle();

    NginxFixture nginx;
};

std::string ring_of(const std::vector<const Shard*>& shards);  // "server 127.0.0.1:P max_fails=0;\n" each

}  // namespace pushsync::test
