// SPDX-License-Identifier: BSD-2-Clause
// The front nginx (conf/nginx-front.conf as shipped): its ring is the one pushsyncctl computes,
// it spreads groups over the shards, and a stopped shard's groups get the API's 503 while the
// others keep working.
#include <gtest/gtest.h>

#include <signal.h>

#include <map>
#include <set>

#include "shared/shard_ring.hpp"
#include "tests/system/shard/cluster.hpp"
#include "tests/system/shard/traffic.hpp"

namespace pushsync::test {
namespace {

std::string tail_of(const nlohmann::json& entry) {
    const auto payload = nlohmann::json::parse(entry.value("payload", std::string("{}")), nullptr, false);
    return payload.is_object() ? payload.value("tail", std::string()) : std::string();
}

// Pushes APNs accepted, per token: the tails, in arrival order.
std::map<std::string, std::vector<std::string>> delivered(const ApnsSimFixture& sim) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& e : sim.request_log(0)) {
        if (e.value("status", 0) == 200) out[e.value("token", std::string())].push_back(tail_of(e));
    }
    return out;
}

std::size_t delivered_count(const ApnsSimFixture& sim) {
    std::size_t n = 0;
    for (const auto& e : sim.request_log(0)) n += e.value("status", 0) == 200;
    return n;
}

// The proof that pushsyncctl's ring is nginx's: a front whose four upstream servers (weights 1, 3,
// 1 and one `down`) are small servers of its own that answer with their name; ten thousand groups.
TEST(FrontRouting, RingIsNginxsOwn) {
    std::vector<int> ports;
    std::string servers;
    for (int i = 0; i < 4; ++i) {
        ports.push_back(free_tcp_port());
        servers += "    server { listen 127.0.0.1:" + std::to_string(ports.back()) +
                   "; location / { add_header X-Pushsync-Shard s" + std::to_string(i) + " always; return 204; } }\n";
    }
    const std::string ring = "server 127.0.0.1:" + std::to_string(ports[0]) + " max_fails=0;\n" +
                             "server 127.0.0.1:" + std::to_string(ports[1]) + " weight=3 max_fails=0;\n" +
                             "server 127.0.0.1:" + std::to_string(ports[2]) + " max_fails=0;\n" +
                             "server 127.0.0.1:" + std::to_string(ports[3]) + " down;\n";
    Front front(ring, servers);
    const ShardRing computed(load_ring_file(front.ring_file().string()));
    std::map<std::string, std::string> id_of;
    for (int i = 0; i < 4; ++i) id_of["127.0.0.1:" + std::to_string(ports[i])] = "s" + std::to_string(i);

    std::vector<Call> calls;
    for (int i = 0; i < 10000; ++i) calls.push_back({"GET", "/v1/groups/" + group_of(i) + "/devices", ""});
    const auto answers = run_calls(front.port(), calls, 2);
    std::map<std::string, int> per_server;
    int disagreements = 0;
    for (int i = 0; i < 10000; ++i) {
        ASSERT_EQ(answers[i].status, 204) << answers[i].body;
        const std::string routed = answers[i].header("X-Pushsync-Shard");
        ++per_server[routed];
        if (routed != id_of.at(computed.owner(group_of(i))->name)) ++disagreements;
    }
    EXPECT_EQ(disagreements, 0);
    EXPECT_EQ(per_server.count("s3"), 0u);     // down
    EXPECT_GT(per_server["s1"], per_server["s0"]);  // weight 3
}

// Two shards behind the front, 2,000 groups registered through it.
TEST(FrontRouting, TwoShardsHoldEachGroupOnceAndNotifiesPushEveryOtherDevice) {
    ApnsSimFixture sim;
    Shard a("a", sim), b("b", sim);
    Front front(ring_of({&a, &b}));
    const std::map<std::string, const Shard*> shard_by_id = {{"a", &a}, {"b", &b}};
    const ShardRing ring(load_ring_file(front.ring_file().string()));
    constexpr int groups = 2000;

    std::vector<Call> registrations;
    for (int g = 0; g < groups; ++g) {
        registrations.push_back(register_call(group_of(g), token_of(2 * g, 'a')));
        registrations.push_back(register_call(group_of(g), token_of(2 * g + 1, 'a')));
    }
    const auto answers = run_calls(front.port(), registrations);
    std::map<std::string, std::string> routed;  // group -> shard id, from the answers
    for (std::size_t i = 0; i < answers.size(); ++i) {
        ASSERT_EQ(answers[i].status, 201) << registrations[i].path << " " << answers[i].body;
        const std::string group = group_of(static_cast<int>(i / 2));
        const std::string shard = answers[i].header("X-Pushsync-Shard");
        ASSERT_TRUE(shard_by_id.count(shard)) << shard;
        if (i % 2 == 1) {
            EXPECT_EQ(routed[group], shard) << group;  // both devices on one shard
        }
        routed[group] = shard;
        EXPECT_EQ(shard_by_id.at(shard)->ring_name(), ring.owner(group)->name) << group;
    }

    const std::set<std::string> on_a = a.groups(), on_b = b.groups();
    EXPECT_EQ(on_a.size() + on_b.size(), static_cast<std::size_t>(groups));
    for (const auto& [group, shard] : routed) {
        EXPECT_EQ(on_a.count(group), shard == "a" ? 1u : 0u) << group;
        EXPECT_EQ(on_b.count(group), shard == "b" ? 1u : 0u) << group;
    }
    for (const auto* held : {&on_a, &on_b}) {
        EXPECT_GE(held->size(), groups * 35 / 100);
        EXPECT_LE(held->size(), groups * 65 / 100);
    }
    std::cout << "[          ] shard a holds " << on_a.size() << " groups, shard b " << on_b.size() << "\n";

    std::vector<Call> notifies;
    for (int g = 0; g < groups; ++g) notifies.push_back(notify_call(group_of(g), "T-" + std::to_string(g), token_of(2 * g, 'a')));
    const auto accepted = run_calls(front.port(), notifies);
    for (std::size_t i = 0; i < accepted.size(); ++i) {
        ASSERT_EQ(accepted[i].status, 202) << accepted[i].body;
        EXPECT_EQ(nlohmann::json::parse(accepted[i].body).value("devices", 0), 1);
    }
    ASSERT_TRUE(wait_until([&] { return delivered_count(sim) >= groups; }, std::chrono::seconds(120)));
    ASSERT_TRUE(a.wait_drained());
    ASSERT_TRUE(b.wait_drained());
    const auto pushes = delivered(sim);
    for (int g = 0; g < groups; ++g) {
        EXPECT_EQ(pushes.count(token_of(2 * g, 'a')), 0u) << "the origin got a push, group " << group_of(g);
        const auto it = pushes.find(token_of(2 * g + 1, 'a'));
        ASSERT_NE(it, pushes.end()) << group_of(g);
        EXPECT_EQ(it->second, std::vector<std::string>{"T-" + std::to_string(g)}) << group_of(g);
    }
}

// A stopped shard's groups get the API's 503 through the front; the others work;
// started again, its groups work with everything they had.
TEST(FrontRouting, StoppedShardsGroupsGetTheApis503AndComeBackWhole) {
    ApnsSimFixture sim;
    Shard a("a", sim), b("b", sim);
    Front front(ring_of({&a, &b}));
    constexpr int groups = 200;
    std::vector<Call> registrations;
    for (int g = 0; g < groups; ++g) {
        registrations.push_back(register_call(group_of(g), token_of(2 * g, 'b')));
        registrations.push_back(register_call(group_of(g), token_of(2 * g + 1, 'b')));
    }
    std::map<std::string, std::vector<int>> groups_of;  // shard id -> group numbers
    const auto answers = run_calls(front.port(), registrations);
    for (std::size_t i = 0; i < answers.size(); i += 2) {
        ASSERT_EQ(answers[i].status, 201);
        groups_of[answers[i].header("X-Pushsync-Shard")].push_back(static_cast<int>(i / 2));
    }
    ASSERT_FALSE(groups_of["a"].empty());
    ASSERT_FALSE(groups_of["b"].empty());
    const auto b_devices_before = b.devices();

    b.nginx.stop();
    ASSERT_EQ(b.sender.wait(std::chrono::milliseconds(0)), -1);
    b.sender.signal(SIGTERM);
    ASSERT_EQ(b.sender.wait(std::chrono::seconds(20)), 0);

    HttpClient client(front.port());
    for (int g : groups_of["b"]) {
        for (const Call& call : {notify_call(group_of(g), "down"), register_call(group_of(g), token_of(100000 + g, 'b')),
                                 Call{"GET", "/v1/groups/" + group_of(g) + "/devices", ""}}) {
            const HttpAnswer r = client.request(call.method, call.path, call.body);
            ASSERT_EQ(r.status, 503) << call.method << " " << call.path << " " << r.body;
            EXPECT_EQ(r.header("Content-Type"), "application/json");
            EXPECT_EQ(r.header("Retry-After"), "1");
            const auto error = nlohmann::json::parse(r.body);
            EXPECT_EQ(error.at("error"), "store_unavailable");
            EXPECT_TRUE(error.at("message").is_string());
            EXPECT_EQ(error.size(), 2u);
        }
    }
    std::size_t expected_pushes = 0;
    for (int g : groups_of["a"]) {
        const Call added = register_call(group_of(g), token_of(100000 + g, 'b'));
        ASSERT_EQ(client.request(added.method, added.path, added.body).status, 201);
        const HttpAnswer r = client.request("POST", "/v1/groups/" + group_of(g) + "/notify", R"({"tail":"while-b-down"})");
        ASSERT_EQ(r.status, 202) << r.body;
        expected_pushes += 3;
    }
    ASSERT_TRUE(wait_until([&] { return delivered_count(sim) >= expected_pushes; }, std::chrono::seconds(60)));

    b.nginx.start();
    b.start_sender();
    EXPECT_EQ(b.devices().size(), b_devices_before.size());
    for (const auto& [token, device] : b_devices_before) {
        const auto now = b.devices().at(token);
        EXPECT_EQ(device_to_json(now), device_to_json(device));
    }
    for (int g : groups_of["b"]) {
        const HttpAnswer list = client.request("GET", "/v1/groups/" + group_of(g) + "/devices");
        ASSERT_EQ(list.status, 200) << list.body;
        EXPECT_EQ(list.header("X-Pushsync-Shard"), "b");
        EXPECT_EQ(nlohmann::json::parse(list.body).at("devices").size(), 2u);
        const HttpAnswer r = client.request("POST", "/v1/groups/" + group_of(g) + "/notify", R"({"tail":"b-back"})");
        ASSERT_EQ(r.status, 202) << r.body;
        expected_pushes += 2;
    }
    ASSERT_TRUE(wait_until([&] { return delivered_count(sim) >= expected_pushes; }, std::chrono::seconds(60)));
    const auto pushes = delivered(sim);
    for (int g : groups_of["b"]) {
        for (const auto& token : {token_of(2 * g, 'b'), token_of(2 * g + 1, 'b')}) {
            ASSERT_TRUE(pushes.count(token));
            EXPECT_EQ(pushes.at(token), std::vector<std::string>{"b-back"});
        }
    }
}

}  // namespace
}  // namespace pushsync::test
