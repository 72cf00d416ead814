// SPDX-License-Identifier: BSD-2-Clause
#include "tests/system/soak/record.hpp"

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

namespace pushsync::soak {
namespace {

std::string prefix(const std::string& token) { return token.substr(0, 8); }

}  // namespace

std::string contract_body(const std::string& tail) {
    return nlohmann::json{{"aps", {{"content-available", 1}}}, {"tail", tail}}.dump();
}

PushLog read_push_log(const std::string& jsonl, std::vector<std::string>& violations) {
    PushLog out;
    std::istringstream in(jsonl);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const auto e = nlohmann::json::parse(line, nullptr, false);
        if (!e.is_object()) {
            violations.push_back("simulator log: a line that is not JSON");
            continue;
        }
        Push p;
        p.seq = e.value("seq", std::uint64_t{0});
        p.status = e.value("status", 0);
        p.payload = e.value("payload", "");
        p.reason = e.value("reason", "");
        if (const std::string fault = e.value("fault", ""); !fault.empty()) p.reason += "(" + fault + ")";
        const auto body = nlohmann::json::parse(p.payload, nullptr, false);
        if (body.is_object() && body.contains("tail") && body["tail"].is_string()) {
            const std::string tail = body["tail"].get<std::string>();
            if (contract_body(tail) == p.payload) p.tail = tail;
        }
        if (p.tail.empty()) violations.push_back("a push body that is not the contract's: " + p.payload.substr(0, 200));
        out[e.value("token", "")].push_back(std::move(p));
    }
    return out;
}

// docs/api.md "What reaches FCM": the app's android_priority high, delivery.expiration_s 3600.
std::string fcm_contract_body(const std::string& token, const std::string& tail) {
    return R"({"message":{"token":")" + token + R"(","data":{"tail":")" + tail +
           R"("},"android":{"priority":"high","ttl":"3600s","collapse_key":"pushsync"}}})";
}

void read_fcm_push_log(const std::string& jsonl, PushLog& out, std::vector<std::string>& violations) {
    std::istringstream in(jsonl);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const auto e = nlohmann::json::parse(line, nullptr, false);
        if (!e.is_object()) {
            violations.push_back("fcm-sim log: a line that is not JSON");
            continue;
        }
        if (e.value("endpoint", "") != "send") continue;
        Push p;
        p.seq = e.value("seq", std::uint64_t{0});
        p.status = e.value("status", 0);
        p.payload = e.value("body", "");
        p.reason = e.value("errorCode", "");
        if (const std::string fault = e.value("fault", ""); !fault.empty()) p.reason += "(" + fault + ")";
        // fcm-sim names token and tail only for a request that got past its auth checks (a 401
        // for an expired access token names neither): the body names both in every case.
        std::string token = e.value("token", "");
        std::string tail = e.value("tail", "");
        const auto body = nlohmann::json::parse(p.payload, nullptr, false);
        if (body.is_object() && body.contains("message") && body["message"].is_object()) {
            const auto& message = body["message"];
            if (token.empty() && message.contains("token") && message["token"].is_string()) token = message["token"];
            if (tail.empty() && message.contains("data") && message["data"].is_object() && message["data"].contains("tail") &&
                message["data"]["tail"].is_string()) {
                tail = message["data"]["tail"];
            }
        }
        if (!tail.empty() && fcm_contract_body(token, tail) == p.payload) p.tail = tail;
        if (p.tail.empty()) violations.push_back("an FCM body that is not the contract's: " + p.payload.substr(0, 200));
        out[token].push_back(std::move(p));
    }
}

StoreView read_store_export(const std::string& jsonl) {
    StoreView out;
    std::istringstream in(jsonl);
    std::string line;
    while (std::getline(in, line)) {
        const auto d = nlohmann::json::parse(line, nullptr, false);
        if (d.is_object()) out[d.value("token", "")] = d.value("group", "");
    }
    return out;
}

Verdict judge(const std::vector<ClientRecord*>& records, const PushLog& pushes, const StoreView& store) {
    Verdict v;
    std::unordered_map<std::string, const Notify*> by_tail;
    std::unordered_map<std::string, const Device*> known_tokens;
    for (const ClientRecord* r : records) {
        for (const auto& n : r->notifies) by_tail.emplace(n.tail, &n);
        for (const auto& d : r->devices) known_tokens.emplace(d.token, &d);
        v.violations.insert(v.violations.end(), r->violations.begin(), r->violations.end());
    }

    // Every push: to a device we registered, for a notify we made, never back to its origin.
    for (const auto& [token, list] : pushes) {
        if (!known_tokens.contains(token)) v.violations.push_back("a push to a token never registered: " + prefix(token));
        std::set<std::string> delivered;
        for (const Push& p : list) {
            if (p.tail.empty()) continue;  // counted when the log was read
            const auto n = by_tail.find(p.tail);
            if (n == by_tail.end()) {
                v.violations.push_back("a push with a tail nobody notified: " + p.tail);
                continue;
            }
            if (n->second->origin == token) {
                v.violations.push_back("notify " + p.tail + " was pushed to its own origin " + prefix(token));
            }
            if (p.status == 200) {
                ++v.pushes_sent;
                if (!delivered.insert(p.tail).second) ++v.duplicates;
            }
        }
    }

    for (const ClientRecord* r : records) {
        // The newest 202 of each group, and the notifies after it whose answer was lost.
        std::unordered_map<int, const Notify*> newest;
        for (const auto& n : r->notifies) {
            if (n.accepted) {
                ++v.notifies_accepted;
                newest[n.group] = &n;
            }
        }
        for (const auto& [group, n] : newest) {
            std::set<std::string> acceptable{n->tail};
            for (const auto& later : r->notifies) {
                if (later.group == group && later.unknown && later.seq > n->seq) acceptable.insert(later.tail);
            }
            for (int index : n->targets) {
                const Device& d = r->devices[static_cast<std::size_t>(index)];
                if (d.uncertain || d.marked_dead || d.changed_at > n->seq) continue;
                ++v.devices_checked;
                std::string holds;
                if (const auto it = pushes.find(d.token); it != pushes.end()) {
                    for (const Push& p : it->second) {
                        if (p.status == 200) holds = p.tail;
                    }
                }
                if (!acceptable.contains(holds)) {
                    // What the simulator saw of the missed tail, for the post-mortem.
                    std::string attempts;
                    if (const auto it = pushes.find(d.token); it != pushes.end()) {
                        for (const Push& p : it->second) {
                            if (p.tail == n->tail) attempts += " " + std::to_string(p.status) + p.reason;
                        }
                    }
                    v.violations.push_back("device " + prefix(d.token) + " of group " + r->groups[static_cast<std::size_t>(group)].id +
                                           " holds tail '" + holds + "', the group's newest 202 was " + n->tail +
                                           " (its attempts at the simulator:" + (attempts.empty() ? " none" : attempts) + ")");
                }
            }
        }

        // Registrations: answered ones are there unless deleted, moved or pruned; deleted ones are gone.
        for (const auto& d : r->devices) {
            if (d.uncertain) continue;
            const auto it = store.find(d.token);
            if (d.registered) {
                ++v.registrations_checked;
                const std::string& group = r->groups[static_cast<std::size_t>(d.group)].id;
                if (it == store.end()) {
                    if (!d.marked_dead) v.violations.push_back("registration of " + prefix(d.token) + " in " + group + " lost");
                } else if (it->second != group) {
                    v.violations.push_back("device " + prefix(d.token) + " is in group " + it->second + ", registered in " + group);
                }
            } else if (it != store.end()) {
                v.violations.push_back("device " + prefix(d.token) + " was removed but is still in group " + it->second);
            }
        }
    }
    for (const auto& [token, group] : store) {
        if (!known_tokens.contains(token)) v.violations.push_back("the store holds a token nobody registered: " + prefix(token));
    }
    return v;
}

}  // namespace pushsync::soak
