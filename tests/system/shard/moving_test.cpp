// SPDX-License-Identifier: BSD-2-Clause
// A third shard is added while a client keeps registering and notifying through the
// front, by the procedure of docs/scaling.md ("Adding a shard"): mirror to the new ring, copy,
// switch, copy what changed, drain, remove. Afterwards every group lives on exactly one shard,
// the one the front routes it to; no device record was lost or changed; every device got its
// group's newest tail.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "shared/shard_ring.hpp"
#include "tests/system/shard/cluster.hpp"
#include "tests/system/shard/traffic.hpp"

namespace pushsync::test {
namespace {

// What the client was told, kept to compare with the stores afterwards.
struct ClientRecord {
    struct Known {
        std::string group;
        std::string registered_at;  // from the first answer (201)
        std::string last_seen;      // from the last answer
        std::uint64_t registered_step = 0;
    };
    std::map<std::string, Known> devices;  // token ->
    struct Notified {
        std::string tail;
        std::uint64_t step = 0;
    };
    std::map<std::string, Notified> newest;  // group -> its last accepted notify
    std::vector<std::string> failures;
};

std::int64_t seconds_of(const std::string& rfc3339) {
    return parse_rfc3339(rfc3339).value_or(0) / 1000;
}

// One client: registers new devices, refreshes old ones and notifies, one request at a time, so
// the order of its steps is the order the service saw them in.
class Client {
public:
    Client(int port, int groups) : port_(port), groups_(groups) {}

    void seed(int devices_per_group) {
        std::vector<Call> calls;
        for (int g = 0; g < groups_; ++g) {
            for (int d = 0; d < devices_per_group; ++d) calls.push_back(register_call(group_of(g), token_of(next_token_++, 'c')));
        }
        const auto answers = run_calls(port_, calls);
        for (std::size_t i = 0; i < calls.size(); ++i) record_registration(calls[i], answers[i]);
    }

    void start() {
        thread_ = std::jthread([this](std::stop_token stop) {
            HttpClient client(port_);
            for (std::uint64_t k = 0; !stop.stop_requested(); ++k) step(client, k);
        });
    }
    void stop() {
        thread_.request_stop();
        thread_.join();
    }
    std::uint64_t steps() const { return steps_.load(); }

    ClientRecord record;

private:
    void record_registration(const Call& call, const HttpAnswer& r) {
        const std::uint64_t now = ++step_counter_;
        if (r.status != 200 && r.status != 201) {
            record.failures.push_back(call.method + " " + call.path + ": " + std::to_string(r.status) + " " + r.body);
            return;
        }
        const auto device = nlohmann::json::parse(r.body);
        auto& known = record.devices[device.at("token").get<std::string>()];
        if (r.status == 201) {
            known.registered_at = device.at("registered_at");
            known.registered_step = now;
        }
        known.group = device.at("group");
        known.last_seen = device.at("last_seen");
    }

    void step(HttpClient& client, std::uint64_t k) {
        const int g = static_cast<int>((k * 7919) % static_cast<std::uint64_t>(groups_));
        Call call;
        switch (k % 4) {
        case 0: call = register_call(group_of(g), token_of(next_token_++, 'c')); break;
        case 1: {  // a refresh of a device registered earlier, in its own group
            const auto it = std::next(record.devices.begin(), static_cast<long>((k * 31) % record.devices.size()));
            call = register_call(it->second.group, it->first);
            break;
        }
        default: call = notify_call(group_of(g), "T" + std::to_string(k)); break;
        }
        const std::uint64_t sent_step = ++step_counter_;
        const HttpAnswer r = client.request(call.method, call.path, call.body);
        if (call.method == "PUT") {
            record_registration(call, r);
        } else if (r.status == 202) {
            record.newest[group_of(g)] = {nlohmann::json::parse(call.body).at("tail"), sent_step};
        } else {
            record.failures.push_back(call.path + ": " + std::to_string(r.status) + " " + r.body);
        }
        ++steps_;
    }

    int port_;
    int groups_;
    int next_token_ = 0;
    std::uint64_t step_counter_ = 0;
    std::atomic<std::uint64_t> steps_{0};
    std::jthread thread_;
};

// The procedure of docs/scaling.md, step for step, adding `added` to the ring of `existing`.
void add_shard(Front& front, const std::vector<Shard*>& existing, Shard& added, const std::filesystem::path& work) {
    std::vector<const Shard*> next(existing.begin(), existing.end());
    next.push_back(&added);
    const std::string next_ring = ring_of(next);
    auto ctl_ok = [](const Shard& shard, const std::vector<std::string>& args) {
        const CommandResult r = shard.ctl(args);
        ASSERT_EQ(r.exit_code, 0) << "pushsyncctl on shard " << shard.id() << ": " << r.out << r.err;
    };

    // 1. The front copies every write and notify to its owner on the new ring.
    write_file(front.next_ring_file(), next_ring);
    write_file(front.moving_file(), "mirror /_pushsync_next;\n");
    front.reload_and_settle();
    // (The test's own check that the mirror copies: the client's writes of moving groups reach
    // the new shard before any copy.)
    const auto mirrored = [&] {
        const std::string log = read_file(added.nginx.prefix() / "logs/access.log");
        return static_cast<int>(std::count(log.begin(), log.end(), '\n'));
    };
    ASSERT_TRUE(wait_until([&] { return mirrored() >= 5; }, std::chrono::seconds(30)));
    // 2. Copy the groups that move (everything before the mirror began; merge with what it copied).
    for (const Shard* shard : existing) {
        const std::string file = (work / ("copy-" + shard->id() + ".jsonl")).string();
        ctl_ok(*shard, {"export", file, "--delivery", "--ring", front.next_ring_file().string(), "--self",
                        shard->ring_name()});
        ctl_ok(added, {"import", file, "--merge"});
    }
    // 3. Switch: the new ring for everything, no more mirror.
    write_file(front.ring_file(), next_ring);
    write_file(front.moving_file(), "");
    front.reload_and_settle();
    // 4. The old owners finish what they accepted before the switch.
    for (const Shard* shard : existing) ASSERT_TRUE(shard->wait_drained()) << shard->id();
    // 5. Copy what changed since step 2 (registrations and deliveries), 6. forget the groups that left.
    for (const Shard* shard : existing) {
        const std::string file = (work / ("changed-" + shard->id() + ".jsonl")).string();
        ctl_ok(*shard, {"export", file, "--delivery", "--ring", front.ring_file().string(), "--self", shard->ring_name()});
        ctl_ok(added, {"import", file, "--merge"});
        ctl_ok(*shard, {"remove-groups", "--ring", front.ring_file().string(), "--self", shard->ring_name()});
    }
}

TEST(MovingGroups, AddingAShardUnderTrafficMovesOnlyItsGroupsIntact) {
    ApnsSimFixture sim;
    Shard a("a", sim), b("b", sim);
    Front front(ring_of({&a, &b}));
    constexpr int groups = 600;
    Client client(front.port(), groups);
    client.seed(2);
    const std::map<std::string, std::set<std::string>> before = {{"a", a.groups()}, {"b", b.groups()}};

    client.start();
    ASSERT_TRUE(wait_until([&] { return client.steps() >= 200; }, std::chrono::seconds(60)));
    Shard c("c", sim);
    TempDir work;
    add_shard(front, {&a, &b}, c, work.path());
    if (HasFatalFailure()) return client.stop();
    const std::uint64_t after_move = client.steps();
    ASSERT_TRUE(wait_until([&] { return client.steps() >= after_move + 200; }, std::chrono::seconds(60)));
    client.stop();
    const ClientRecord& record = client.record;
    ASSERT_TRUE(record.failures.empty()) << record.failures.size() << " failed, first: " << record.failures.front();
    std::cout << "[          ] " << client.steps() << " client steps, " << record.devices.size() << " devices\n";

    for (const Shard* s : {&a, &b, &c}) ASSERT_TRUE(s->wait_drained()) << s->id();

    // Every group on exactly one shard: the one the front routes it to, and the computed owner.
    const ShardRing ring(load_ring_file(front.ring_file().string()));
    const std::map<std::string, const Shard*> shards = {{"a", &a}, {"b", &b}, {"c", &c}};
    std::map<std::string, std::map<std::string, Device>> held;
    for (const auto& [id, shard] : shards) held[id] = shard->devices();
    HttpClient check(front.port());
    std::size_t moved = 0;
    for (int g = 0; g < groups; ++g) {
        const std::string group = group_of(g);
        const HttpAnswer r = check.request("GET", "/v1/groups/" + group + "/devices");
        ASSERT_EQ(r.status, 200) << group << " " << r.body;
        const std::string routed = r.header("X-Pushsync-Shard");
        ASSERT_EQ(shards.at(routed)->ring_name(), ring.owner(group)->name) << group;
        for (const auto& [id, devices] : held) {
            const bool here = std::any_of(devices.begin(), devices.end(), [&](const auto& d) { return d.second.group == group; });
            EXPECT_EQ(here, id == routed) << group << " on shard " << id << ", routed to " << routed;
        }
        if (routed == "c") {
            ++moved;
        } else {
            EXPECT_TRUE(before.at(routed).count(group)) << group << " moved between old shards";
        }
    }
    EXPECT_GT(moved, groups / 5u);
    for (const Shard* s : {&a, &b, &c}) {
        const CommandResult r = s->ctl({"misplaced", "--ring", front.ring_file().string(), "--self", s->ring_name(), "--json"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_TRUE(nlohmann::json::parse(r.out).at("groups").empty()) << s->id() << ": " << r.out;
    }

    // No device record lost or changed. A refresh answered while the front mirrored may have been
    // applied once more, a moment later, by the mirror: last_seen may be that much newer.
    std::size_t stored = 0;
    for (const auto& [id, devices] : held) stored += devices.size();
    EXPECT_EQ(stored, record.devices.size());
    for (const auto& [token, known] : record.devices) {
        const Device* found = nullptr;
        for (const auto& [id, devices] : held) {
            if (const auto it = devices.find(token); it != devices.end()) found = &it->second;
        }
        ASSERT_NE(found, nullptr) << "lost: " << token;
        if (known.registered_at.empty()) {
            std::string trail;
            for (const auto& log : {front.nginx.prefix() / "logs/pushsync-front.log", a.nginx.prefix() / "logs/access.log",
                                    b.nginx.prefix() / "logs/access.log", c.nginx.prefix() / "logs/access.log"}) {
                std::istringstream lines(read_file(log));
                for (std::string line; std::getline(lines, line);) {
                    // Logs name a device by its first 8 characters only ($pushsync_log_uri).
                    if (line.find("/devices/" + token.substr(0, 8) + "...") != std::string::npos) {
                        trail += log.string() + ": " + line + "\n";
                    }
                }
            }
            ADD_FAILURE() << token << " was never answered 201:\n" << trail;
            continue;
        }
        EXPECT_EQ(found->group, known.group) << token;
        EXPECT_EQ(format_rfc3339(found->registered_at_ms), known.registered_at) << token;
        EXPECT_GE(found->last_seen_ms / 1000, seconds_of(known.last_seen)) << token;
        EXPECT_LE(found->last_seen_ms / 1000, seconds_of(known.last_seen) + 2) << token;
    }

    // Every device registered before its group's last notify got that notify's tail.
    std::map<std::string, std::set<std::string>> tails;
    for (const auto& e : sim.request_log(0)) {
        if (e.value("status", 0) != 200) continue;
        const auto payload = nlohmann::json::parse(e.value("payload", std::string("{}")));
        tails[e.value("token", std::string())].insert(payload.value("tail", std::string()));
    }
    std::size_t checked = 0;
    for (const auto& [token, known] : record.devices) {
        const auto newest = record.newest.find(known.group);
        if (newest == record.newest.end() || known.registered_step > newest->second.step) continue;
        EXPECT_TRUE(tails[token].count(newest->second.tail)) << token << " in " << known.group << " lacks " << newest->second.tail;
        ++checked;
    }
    EXPECT_GT(checked, 100u);

    // Delivery statistics moved with the devices: every device APNs accepted a push for counts it
    // on the shard that holds it now (the senders' statistics land a moment after the push).
    std::set<std::string> pushed;
    for (const auto& [token, got] : tails) pushed.insert(token);
    std::size_t uncounted = 0;
    const bool counted = wait_until(
        [&] {
            uncounted = 0;
            for (const Shard* s : {&a, &b, &c}) {
                for (const auto& [token, sent] : s->pushes_sent()) uncounted += pushed.count(token) && sent == 0;
            }
            return uncounted == 0;
        },
        std::chrono::seconds(20), std::chrono::milliseconds(200));
    EXPECT_TRUE(counted) << uncounted << " pushed devices show no push in their shard's statistics";
}

}  // namespace
}  // namespace pushsync::test
