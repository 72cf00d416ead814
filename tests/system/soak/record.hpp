// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The soak's client record: what each client thread was answered, kept as a model of the groups it
// owns, and the checks of docs/architecture.md's promises against the simulator's log and the store.
// Every group belongs to one client thread, so "the newest 202 of a group" is well defined.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace pushsync::soak {

struct Device {
    std::string token;
    int group = -1;            // the group it is registered in (model), -1: none
    bool registered = false;
    bool uncertain = false;    // a request about it lost its answer: its state is unknown
    bool marked_dead = false;  // the simulator answers 410 (fcm-sim 404) for it from now on; never used again
    bool android = false;      // an fcm device: registered with platform fcm, pushed through fcm-sim
    std::uint64_t changed_at = 0;  // op sequence of its last membership change
};

struct Notify {
    int group = -1;
    std::string tail;
    std::string origin;            // token, "" when none
    bool accepted = false;         // 202
    bool unknown = false;          // no answer: it may have been queued
    std::uint64_t seq = 0;
    std::vector<int> targets;      // device indices in the group at the 202, origin left out
    int answered_devices = -1;     // "devices" of the 202
};

struct Group {
    std::string id;
    std::vector<int> devices;  // indices of every device created for it (pool)
};

// One client thread's part of the record; its mutex lets the fault thread mark devices dead.
struct ClientRecord {
    std::mutex mutex;
    std::vector<Group> groups;
    std::vector<Device> devices;
    std::vector<Notify> notifies;
    std::uint64_t next_seq = 1;
    // requests by kind, then status (0: not sent, -1: answer lost)
    std::map<std::string, std::map<int, std::uint64_t>> requests;
    std::vector<std::string> violations;
};

// What the simulator logged, by token.
struct Push {
    std::uint64_t seq = 0;
    int status = 0;
    std::string reason;   // APNs' reason, or the simulator's fault

    std::string tail;     // from a contract body; "" when the body was not the contract's
    std::string payload;
};

struct Verdict {
    std::uint64_t notifies_accepted = 0;
    std::uint64_t pushes_sent = 0;         // answered 200
    std::uint64_t duplicates = 0;          // a (token, tail) answered 200 more than once
    std::uint64_t devices_checked = 0;     // devices whose newest tail was judged
    std::uint64_t registrations_checked = 0;
    std::vector<std::string> violations;
};

using PushLog = std::unordered_map<std::string, std::vector<Push>>;  // token -> pushes in log order
using StoreView = std::unordered_map<std::string, std::string>;      // token -> group, from export

// The contract's body for a tail, byte for byte.
std::string contract_body(const std::string& tail);
// The simulator's request log (JSON lines) by token; a body that is not the contract's is a violation.
PushLog read_push_log(const std::string& jsonl, std::vector<std::string>& violations);
// fcm-sim's log (sends only; token fetches are not pushes), into the same map.
void read_fcm_push_log(const std::string& jsonl, PushLog& out, std::vector<std::string>& violations);
// `pushsyncctl export` output.
StoreView read_store_export(const std::string& jsonl);

Verdict judge(const std::vector<ClientRecord*>& records, const PushLog& pushes, const StoreView& store);

}  // namespace pushsync::soak
