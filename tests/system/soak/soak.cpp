// SPDX-License-Identifier: BSD-2-Clause
// pushsync-soak: the whole stack on 127.0.0.1 (nginx with 2 workers and the module, the sender,
// apns-sim and fcm-sim; a quarter of the devices are Android) under a mixed client load with faults
// on a seeded schedule; then it drains and checks docs/architecture.md's promises from the client's
// record, both simulators' logs and the store.
//   pushsync-soak --seconds 60 --seed 1 [--rate 300] [--clients 4] [--groups 2000]
// Exit status: 0 no violation, 1 violations, 2 usage or the stack did not start.
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "tests/system/delivery/e2e.hpp"
#include "tests/support/http_client.hpp"
#include "tests/system/soak/record.hpp"

namespace pushsync::soak {
namespace {

using namespace std::chrono_literals;
using pushsync::sender::e2e::Stack;
using pushsync::test::HttpAnswer;
using pushsync::test::HttpClient;
using pushsync::test::Protocol;
using Clock = std::chrono::steady_clock;

struct Options {
    int seconds = 60;
    std::uint64_t seed = 1;
    double rate = 300;  // requests per second, all clients together
    int clients = 4;
    int groups = 2000;
    std::vector<std::string> without;  // fault kinds left out
};

const std::vector<std::string> fault_kinds = {
    "sender_kill",  "sender_term", "worker_kill", "nginx_reload", "nginx_restart", "nginx_upgrade", "apns_503",
    "apns_429",     "apns_500",    "goaway",      "goaway_last_stream_id", "silence", "delay",
    "connection_drop", "unregistered_410", "expired_provider_token", "queue_fill",
    "fcm_503", "fcm_quota", "fcm_token_down", "fcm_goaway", "fcm_expired_tokens"};

std::string hex16(std::uint64_t x) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
    return buf;
}

std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Shared between the client threads and the fault thread.
struct Run {
    Options options;
    Stack* stack = nullptr;
    std::atomic<bool> load_on{true};
    std::atomic<bool> fill_queue{false};   // clients notify flat out until one sees queue_full
    std::atomic<std::uint64_t> queue_full_seen{0};
    std::vector<std::unique_ptr<ClientRecord>> records;
};

class Client {
public:
    Client(Run& run, int index)
        : run_(run), index_(index), record_(*run.records[static_cast<std::size_t>(index)]),
          rng_(run.options.seed * 1000003 + static_cast<std::uint64_t>(index)),
          http_(run.stack->nginx.http_port(), 5s, HttpClient::OnUnansweredClose::unknown) {}

    void operator()() {
        const auto period = std::chrono::duration<double>(run_.options.clients / run_.options.rate);
        auto next = Clock::now();
        while (run_.load_on.load()) {
            if (run_.fill_queue.load()) {
                notify(random_group(), true);
                continue;
            }
            one_operation();
            next += std::chrono::duration_cast<Clock::duration>(period);
            std::this_thread::sleep_until(next);
            if (Clock::now() - next > 1s) next = Clock::now();  // after a stall, no catch-up burst
        }
    }

private:
    int random_group() { return std::uniform_int_distribution<int>(0, static_cast<int>(record_.groups.size()) - 1)(rng_); }

    void count(const std::string& kind, const HttpAnswer& a) {
        const int status = a.outcome == HttpAnswer::Outcome::answered ? a.status
                           : a.outcome == HttpAnswer::Outcome::not_sent ? 0 : -1;
        std::lock_guard lock(record_.mutex);
        ++record_.requests[kind][status];
        if (a.outcome == HttpAnswer::Outcome::answered && a.status >= 500 && a.status != 503) {
            record_.violations.push_back(kind + " answered " + std::to_string(a.status) + ": " + a.body.substr(0, 200));
        }
        if (a.outcome == HttpAnswer::Outcome::answered) {
            const auto body = nlohmann::json::parse(a.body, nullptr, false);
            if (!a.body.empty() && !body.is_object()) record_.violations.push_back(kind + ": a body that is not JSON");
            if (a.status >= 400 && !(body.is_object() && body.contains("error"))) {
                record_.violations.push_back(kind + " " + std::to_string(a.status) + " without the contract's error body");
            }
        }
    }

    HttpAnswer call(const std::string& kind, std::string_view method, const std::string& path, const std::string& body) {
        HttpAnswer a = http_.request(method, path, body);
        if (a.outcome == HttpAnswer::Outcome::not_sent) std::this_thread::sleep_for(20ms);  // nginx restarting
        count(kind, a);
        return a;
    }

    void one_operation() {
        const int dice = std::uniform_int_distribution<int>(0, 99)(rng_);
        const int g = random_group();
        if (dice < 20) register_device(g, "register");
        else if (dice < 30) register_device(g, "refresh");
        else if (dice < 35) move_device(g);
        else if (dice < 40) delete_device(g);
        else if (dice < 85) notify(g, dice < 72);
        else if (dice < 90) list(g);
        else if (dice < 95) bad_request(g);
        else register_over_h2c(g);
    }

    // An Android device says so (contract 1.2); an iOS one leaves platform out, as 1.1 clients do.
    static std::string registration_body(const Device& d, const std::string& extra = "") {
        return std::string(d.android ? R"({"platform":"fcm",)" : "{") + R"("bundle_id":"com.example.app")" + extra + "}";
    }

    std::string device_path(int g, const Device& d) const {
        return "/v1/groups/" + record_.groups[static_cast<std::size_t>(g)].id + "/devices/" + d.token;
    }

    // A device of group g's pool in the state wanted, or -1.
    int pick(int g, bool registered_here) {
        std::lock_guard lock(record_.mutex);
        std::vector<int> candidates;
        for (int i : record_.groups[static_cast<std::size_t>(g)].devices) {
            const Device& d = record_.devices[static_cast<std::size_t>(i)];
            if (d.marked_dead || d.uncertain) continue;
            if ((d.registered && d.group == g) == registered_here) candidates.push_back(i);
        }
        if (candidates.empty()) return -1;
        return candidates[std::uniform_int_distribution<std::size_t>(0, candidates.size() - 1)(rng_)];
    }

    // Applies an answered (or lost) registration of device i into group g to the model.
    void registered(int i, int g, const HttpAnswer& a) {
        std::lock_guard lock(record_.mutex);
        Device& d = record_.devices[static_cast<std::size_t>(i)];
        if (a.outcome == HttpAnswer::Outcome::unknown) {
            d.uncertain = true;
        } else if (a.outcome == HttpAnswer::Outcome::answered && (a.status == 200 || a.status == 201)) {
            if (!d.registered || d.group != g) d.changed_at = record_.next_seq++;
            d.registered = true;
            d.group = g;
        }
    }

    void register_device(int g, const std::string& kind) {
        const int i = pick(g, kind == "refresh");
        if (i < 0) return;
        const Device& d = record_.devices[static_cast<std::size_t>(i)];
        registered(i, g, call(kind, "PUT", device_path(g, d), registration_body(d, R"(,"app_version":"4.1")")));
    }

    void register_over_h2c(int g) {
        const int i = pick(g, false);
        if (i < 0) return;
        const Device& d = record_.devices[static_cast<std::size_t>(i)];
        const auto r = run_.stack->nginx.request("PUT", device_path(g, d), registration_body(d), {}, Protocol::h2c);
        HttpAnswer a;
        a.outcome = r.status == 0 ? HttpAnswer::Outcome::unknown : HttpAnswer::Outcome::answered;
        a.status = r.status;
        a.body = r.body;
        count("register_h2c", a);
        registered(i, g, a);
    }

    // A device of g moves to another group of this client (its pool stays g's).
    void move_device(int g) {
        const int i = pick(g, true);
        if (i < 0) return;
        const int to = random_group();
        const Device& d = record_.devices[static_cast<std::size_t>(i)];
        const std::string path = "/v1/groups/" + record_.groups[static_cast<std::size_t>(to)].id + "/devices/" + d.token;
        registered(i, to, call("move", "PUT", path, registration_body(d)));
    }

    void delete_device(int g) {
        const int i = pick(g, true);
        if (i < 0) return;
        const HttpAnswer a = call("delete", "DELETE", device_path(g, record_.devices[static_cast<std::size_t>(i)]), "");
        std::lock_guard lock(record_.mutex);
        Device& d = record_.devices[static_cast<std::size_t>(i)];
        if (a.outcome == HttpAnswer::Outcome::unknown) d.uncertain = true;
        if (a.outcome == HttpAnswer::Outcome::answered && a.status == 204) {
            d.registered = false;
            d.changed_at = record_.next_seq++;
        }
    }

    void notify(int g, bool with_origin) {
        std::string origin;
        if (with_origin) {
            const int i = pick(g, true);
            if (i >= 0) origin = record_.devices[static_cast<std::size_t>(i)].token;
        }
        Notify n;
        n.group = g;
        n.origin = origin;
        {
            std::lock_guard lock(record_.mutex);
            n.seq = record_.next_seq++;
            n.tail = "T-" + std::to_string(index_) + "-" + std::to_string(n.seq);
            // Who is in the group as the request goes out (nothing else changes this client's
            // groups meanwhile); moved devices stay in their first group's pool, so all are looked at.
            for (std::size_t i = 0; i < record_.devices.size(); ++i) {
                const Device& d = record_.devices[i];
                if (d.registered && d.group == g && d.token != origin) n.targets.push_back(static_cast<int>(i));
            }
        }
        const std::string body = origin.empty() ? nlohmann::json{{"tail", n.tail}}.dump()
                                                : nlohmann::json{{"tail", n.tail}, {"origin", origin}}.dump();
        const HttpAnswer a = call(origin.empty() ? "notify" : "notify_origin", "POST",
                              "/v1/groups/" + record_.groups[static_cast<std::size_t>(g)].id + "/notify", body);
        if (a.outcome == HttpAnswer::Outcome::answered && a.status == 503) {
            const auto j = nlohmann::json::parse(a.body, nullptr, false);
            if (j.is_object() && j.value("error", "") == "queue_full") {
                ++run_.queue_full_seen;
                run_.fill_queue = false;
                if (a.header("retry-after") != "1") {
                    std::lock_guard lock(record_.mutex);
                    record_.violations.push_back("503 queue_full without Retry-After: 1");
                }
            }
        }
        n.accepted = a.outcome == HttpAnswer::Outcome::answered && a.status == 202;
        n.unknown = a.outcome == HttpAnswer::Outcome::unknown;
        if (n.accepted) {
            const auto j = nlohmann::json::parse(a.body, nullptr, false);
            n.answered_devices = j.is_object() ? j.value("devices", -1) : -1;
        }
        std::lock_guard lock(record_.mutex);
        record_.notifies.push_back(std::move(n));
    }

    void list(int g) {
        call("list", "GET", "/v1/groups/" + record_.groups[static_cast<std::size_t>(g)].id + "/devices", "");
    }

    void bad_request(int g) {
        static const std::vector<std::pair<std::string, std::string>> bad = {
            {"/v1/groups/bad%20group!/notify", R"({"tail":"T"})"},
            {"/v1/groups/{g}/notify", R"({"tail":"no spaces allowed"})"},
            {"/v1/groups/{g}/notify", R"([1,2,3])"},
            {"/v1/groups/{g}/notify", R"({"tail":"T","origin":"xyz"})"},
            {"/v1/groups/{g}/devices/nothex", R"({"bundle_id":"com.example.app"})"},
            {"/v1/groups/{g}/unknown", ""},
        };
        auto [path, body] = bad[std::uniform_int_distribution<std::size_t>(0, bad.size() - 1)(rng_)];
        if (const auto at = path.find("{g}"); at != std::string::npos) {
            path.replace(at, 3, record_.groups[static_cast<std::size_t>(g)].id);
        }
        const HttpAnswer a = call("bad", path.find("/devices/") != std::string::npos ? "PUT" : "POST", path, body);
        if (a.outcome == HttpAnswer::Outcome::answered && (a.status < 400 || a.status >= 500)) {
            std::lock_guard lock(record_.mutex);
            record_.violations.push_back("a bad request to " + path + " answered " + std::to_string(a.status));
        }
    }

    Run& run_;
    int index_;
    ClientRecord& record_;
    std::mt19937_64 rng_;
    HttpClient http_;
};

std::int64_t rss_kib(pid_t pid, const char* field) {
    const std::string status = pushsync::test::read_file("/proc/" + std::to_string(pid) + "/status");
    const auto at = status.find(field);
    if (at == std::string::npos) return 0;
    return std::strtoll(status.c_str() + at + std::strlen(field), nullptr, 10);
}

// Runs the faults, watches the processes (it alone starts and stops them) and samples RSS.
class FaultThread {
public:
    FaultThread(Run& run) : run_(run), rng_(run.options.seed) {}

    void operator()(Clock::time_point end) {
        std::vector<std::string> schedule;
        for (const auto& kind : fault_kinds) {
            if (std::find(run_.options.without.begin(), run_.options.without.end(), kind) == run_.options.without.end()) {
                schedule.push_back(kind);
            }
        }
        std::shuffle(schedule.begin(), schedule.end(), rng_);
        // Every kind within the first 80 % of a short run; a fault every 4 s at most in a long one.
        const auto spacing = std::chrono::milliseconds(std::clamp<std::int64_t>(
            run_.options.seconds * 800 / static_cast<std::int64_t>(schedule.size()), 1500, 4000));
        auto next = Clock::now() + 1s;
        std::size_t index = 0;
        while (Clock::now() < end) {
            watch();
            if (Clock::now() >= next) {
                if (index == schedule.size()) {  // every kind once; then at random
                    std::shuffle(schedule.begin(), schedule.end(), rng_);
                    index = 0;
                }
                inject(schedule[index++]);
                next = Clock::now() + spacing;
            }
            std::this_thread::sleep_for(50ms);
        }
        run_.stack->sim.clear_faults();
        run_.stack->fcm_sim->clear_faults();
    }

    std::map<std::string, std::uint64_t> injected;
    std::vector<std::string> violations;
    std::int64_t peak_sender_kib = 0;
    std::int64_t peak_worker_kib = 0;

private:
    void watch() {
        Stack& s = *run_.stack;
        if (!s.sender.running()) violations.push_back("the sender died unplanned");
        if (!s.nginx.running()) violations.push_back("nginx's master died unplanned");
        if (!violations.empty() && (!s.sender.running() || !s.nginx.running())) {
            if (!s.sender.running()) s.start_sender();
            if (!s.nginx.running()) s.nginx.start();
        }
        peak_sender_kib = std::max(peak_sender_kib, rss_kib(s.sender.pid(), "VmHWM:"));
        for (pid_t w : s.nginx.worker_pids()) peak_worker_kib = std::max(peak_worker_kib, rss_kib(w, "VmHWM:"));
    }

    void status_fault(int status, const char* reason, int count) {
        run_.stack->sim.add_fault({{"kind", "status"}, {"status", status}, {"reason", reason}, {"count", count}, {"rate", 0.5}});
    }

    void inject(const std::string& kind) {
        Stack& s = *run_.stack;
        ++injected[kind];
        std::cerr << "soak: fault " << kind << "\n";
        if (kind == "sender_kill" || kind == "sender_term") {
            watch();  // its peak RSS before it goes
            const int code = s.stop_sender(kind == "sender_kill" ? SIGKILL : SIGTERM);
            if (kind == "sender_term" && code != 0) violations.push_back("the sender exited " + std::to_string(code) + " on SIGTERM");
            s.start_sender();
        } else if (kind == "worker_kill") {
            const auto workers = s.nginx.worker_pids();
            if (!workers.empty()) ::kill(workers[std::uniform_int_distribution<std::size_t>(0, workers.size() - 1)(rng_)], SIGKILL);
            if (!pushsync::test::wait_until([&] { return s.nginx.worker_pids().size() == 2; }, 20s)) {
                violations.push_back("nginx did not replace a killed worker");
            }
        } else if (kind == "nginx_reload") {
            s.nginx.reload();
        } else if (kind == "nginx_restart") {
            s.nginx.stop();
            s.nginx.start();
        } else if (kind == "nginx_upgrade") {
            s.nginx.upgrade_binary();
        } else if (kind == "apns_503") {
            status_fault(503, "ServiceUnavailable", 40);
        } else if (kind == "apns_429") {
            status_fault(429, "TooManyRequests", 40);
        } else if (kind == "apns_500") {
            status_fault(500, "InternalServerError", 40);
        } else if (kind == "expired_provider_token") {
            s.sim.add_fault({{"kind", "status"}, {"status", 403}, {"reason", "ExpiredProviderToken"}, {"count", 3}});
        } else if (kind == "goaway") {
            s.sim.add_fault({{"kind", "goaway"}, {"count", 1}});
        } else if (kind == "goaway_last_stream_id") {
            s.sim.goaway_all({{"last_stream_id", 0}});
        } else if (kind == "silence") {
            s.sim.add_fault({{"kind", "silence"}, {"count", 5}});
        } else if (kind == "delay") {
            s.sim.add_fault({{"kind", "delay"}, {"delay_ms", 1500}, {"count", 20}});
        } else if (kind == "connection_drop") {
            s.sim.add_fault({{"kind", "shutdown"}, {"count", 1}});
        } else if (kind == "unregistered_410") {
            mark_dead();
        } else if (kind == "queue_fill") {
            fill_queue();
        } else if (kind == "fcm_503") {
            s.fcm_sim->add_fault({{"kind", "unavailable"}, {"retry_after_s", 1}, {"count", 40}, {"rate", 0.5}});
        } else if (kind == "fcm_quota") {
            // FCM's quota is per minute: the sender waits at least 60 s before trying these again.
            s.fcm_sim->add_fault({{"kind", "quota"}, {"retry_after_s", 1}, {"count", 2}});
        } else if (kind == "fcm_token_down") {
            s.fcm_sim->add_fault({{"kind", "token_down"}, {"count", 3}});
            s.fcm_sim->expire_access_tokens();  // so a new token is wanted while the endpoint is down
        } else if (kind == "fcm_goaway") {
            s.fcm_sim->add_fault({{"kind", "goaway"}, {"count", 1}});
        } else if (kind == "fcm_expired_tokens") {
            s.fcm_sim->expire_access_tokens();
        }
    }

    // A few registered devices answer 410 from now on (the app was removed); the clients never
    // use them again, so each one's registration predates the 410's timestamp.
    void mark_dead() {
        for (int k = 0; k < 5; ++k) {
            ClientRecord& r = *run_.records[std::uniform_int_distribution<std::size_t>(0, run_.records.size() - 1)(rng_)];
            std::lock_guard lock(r.mutex);
            for (int tries = 0; tries < 50; ++tries) {
                Device& d = r.devices[std::uniform_int_distribution<std::size_t>(0, r.devices.size() - 1)(rng_)];
                if (!d.registered || d.marked_dead || d.uncertain) continue;
                d.marked_dead = true;
                if (d.android) run_.stack->fcm_sim->mark_unregistered(d.token, now_unix_ms());
                else run_.stack->sim.mark_unregistered(d.token, now_unix_ms());
                break;
            }
        }
    }

    // The sender stopped, the clients notify flat out: the ring fills and nginx must answer 503
    // queue_full at once (the client's 5 s timeout would report a hang as a lost answer).
    void fill_queue() {
        Stack& s = *run_.stack;
        const auto seen = run_.queue_full_seen.load();
        s.sender.signal(SIGSTOP);
        run_.fill_queue = true;
        if (!pushsync::test::wait_until([&] { return run_.queue_full_seen.load() > seen; }, 30s, 10ms)) {
            violations.push_back("the queue filled without any 503 queue_full");
        }
        run_.fill_queue = false;
        s.sender.signal(SIGCONT);
    }

    Run& run_;
    std::mt19937_64 rng_;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--seconds") o.seconds = std::stoi(value());
        else if (a == "--seed") o.seed = std::stoull(value());
        else if (a == "--rate") o.rate = std::stod(value());
        else if (a == "--clients") o.clients = std::stoi(value());
        else if (a == "--groups") o.groups = std::stoi(value());
        else if (a == "--without") {
            const std::string kind = value();
            if (std::find(fault_kinds.begin(), fault_kinds.end(), kind) == fault_kinds.end()) {
                throw std::invalid_argument("--without: no fault kind " + kind);
            }
            o.without.push_back(kind);
        }
        else if (a == "--help") {
            std::cout << "usage: pushsync-soak [--seconds N (60)] [--seed S (1)] [--rate REQ_PER_S (300)] "
                         "[--clients N (4)] [--groups N (2000)] [--without FAULT_KIND]...\n";
            std::exit(0);
        } else {
            throw std::invalid_argument("unknown option " + a);
        }
    }
    if (o.seconds < 10 || o.rate <= 0 || o.clients < 1 || o.groups < o.clients) throw std::invalid_argument("bad values");
    return o;
}

// The sender's push.failed lines by status and reason, with the first and last time of each: a
// run with failed pushes but no violation deletes its logs, and this is what one would look for.
void print_failed_pushes(const std::filesystem::path& sender_log) {
    struct Seen {
        std::uint64_t count = 0;
        std::string first, last;
    };
    std::map<std::string, Seen> kinds;
    std::ifstream in(sender_log);
    for (std::string line; std::getline(in, line);) {
        if (line.find(" push.failed ") == std::string::npos) continue;
        std::string kind;
        for (const char* field : {" status=", " reason=", " gave_up="}) {
            const auto at = line.find(field);
            if (at != std::string::npos) kind += line.substr(at + 1, line.find(' ', at + 1) - at - 1) + " ";
        }
        Seen& seen = kinds[kind];
        const std::string time = line.substr(0, line.find(' '));
        if (seen.count++ == 0) seen.first = time;
        seen.last = time;
    }
    for (const auto& [kind, seen] : kinds) {
        std::printf("%-22s %llu × %s(%s … %s)\n", "push.failed in log", static_cast<unsigned long long>(seen.count),
                    kind.c_str(), seen.first.c_str(), seen.last.c_str());
    }
}

void print_table(const Options& o, double seconds, const Run& run, const FaultThread& faults, const Verdict& v) {
    std::map<std::string, std::map<int, std::uint64_t>> requests;
    for (const auto& r : run.records)
        for (const auto& [kind, by_status] : r->requests)
            for (const auto& [status, n] : by_status) requests[kind][status] += n;
    std::printf("\n== pushsync soak: seed %llu, %d s of load (%.0f s with drain), %.0f req/s, %d clients, %d groups ==\n",
                static_cast<unsigned long long>(o.seed), o.seconds, seconds, o.rate, o.clients, o.groups);
    std::printf("%-22s %s\n", "requests", "by status (0 = not sent, -1 = answer lost)");
    for (const auto& [kind, by_status] : requests) {
        std::string line;
        for (const auto& [status, n] : by_status) line += std::to_string(status) + ":" + std::to_string(n) + "  ";
        std::printf("  %-20s %s\n", kind.c_str(), line.c_str());
    }
    std::uint64_t total_faults = 0;
    std::string kinds;
    for (const auto& [k, n] : faults.injected) {
        total_faults += n;
        kinds += k + ":" + std::to_string(n) + " ";
    }
    std::printf("%-22s %llu\n", "notifies accepted", static_cast<unsigned long long>(v.notifies_accepted));
    std::printf("%-22s %llu\n", "pushes sent (200)", static_cast<unsigned long long>(v.pushes_sent));
    std::printf("%-22s %llu\n", "duplicates delivered", static_cast<unsigned long long>(v.duplicates));
    std::printf("%-22s %llu devices, %llu registrations\n", "checked", static_cast<unsigned long long>(v.devices_checked),
                static_cast<unsigned long long>(v.registrations_checked));
    std::printf("%-22s %llu (%zu kinds of %zu): %s\n", "faults injected", static_cast<unsigned long long>(total_faults),
                faults.injected.size(), fault_kinds.size(), kinds.c_str());
    std::printf("%-22s sender %.1f MiB, nginx worker %.1f MiB\n", "peak RSS", faults.peak_sender_kib / 1024.0,
                faults.peak_worker_kib / 1024.0);
    std::printf("%-22s %zu\n", "violations", v.violations.size());
    for (std::size_t i = 0; i < v.violations.size() && i < 40; ++i) std::printf("  ! %s\n", v.violations[i].c_str());
}

int soak(const Options& o) {
    const auto started = Clock::now();
    Stack::Options so;
    // A push must outlive a run of connection faults: three in a row (503s, a GOAWAY, a dropped
    // connection) put the APNs client's reconnect backoff at 16 s and more (at most 60 s), and
    // with 1 s timeouts and retries at most 1 s apart 40 attempts last longer than that, as the
    // defaults (10 s timeouts, 8 attempts) do in production.
    so.delivery = "  coalesce_ms: 50\n  retry_base_ms: 50\n  retry_max_ms: 1000\n  max_attempts: 40\n";
    so.request_timeout_ms = 1000;
    so.queue_capacity = 1024;
    so.start_sender = false;
    so.nginx_daemon = true;  // for the binary upgrade
    so.check_logs = false;   // the soak runs its own check below, as a violation (no gtest here)
    so.fcm = true;           // a quarter of the devices are Android, on fcm-sim
    so.delivery += "  expiration_s: 3600\n";
    Stack stack(so);
    Run run;
    run.options = o;
    run.stack = &stack;

    // Groups of 1-10 devices, about 70 % registered up front through pushsyncctl import.
    std::mt19937_64 rng(o.seed);
    std::vector<std::pair<std::string, std::string>> imported;
    for (int c = 0; c < o.clients; ++c) run.records.push_back(std::make_unique<ClientRecord>());
    for (int g = 0; g < o.groups; ++g) {
        ClientRecord& r = *run.records[static_cast<std::size_t>(g % o.clients)];
        const int local = static_cast<int>(r.groups.size());
        r.groups.push_back({"soak-" + std::to_string(o.seed) + "-" + std::to_string(g), {}});
        const int size = std::uniform_int_distribution<int>(1, 10)(rng);
        for (int k = 0; k < size; ++k) {
            Device d;
            const std::uint64_t id = (static_cast<std::uint64_t>(g) << 8) | static_cast<std::uint64_t>(k);
            d.android = std::uniform_int_distribution<int>(0, 3)(rng) == 0;
            d.token = d.android ? "f" + hex16(mix(id ^ o.seed)) + ":APA91b" + hex16(mix(id + 1)) + hex16(id) + "_soak"
                                : hex16(mix(id ^ o.seed)) + hex16(mix(id + 1)) + hex16(id) + "00000000000000ff";
            if (std::uniform_int_distribution<int>(0, 9)(rng) < 7) {
                d.registered = true;
                d.group = local;
                imported.emplace_back(d.token, r.groups.back().id);
            }
            r.groups.back().devices.push_back(static_cast<int>(r.devices.size()));
            r.devices.push_back(std::move(d));
        }
    }
    if (stack.import_devices(imported) != 0) throw std::runtime_error("pushsyncctl import failed");
    stack.start_sender();

    FaultThread faults(run);
    {
        std::vector<std::jthread> clients;
        for (int c = 0; c < o.clients; ++c) clients.emplace_back([&run, c] { Client(run, c)(); });
        faults(Clock::now() + std::chrono::seconds(o.seconds));
        run.load_on = false;
    }
    // Drain: the queue and the outbox empty, then the sender stops and the simulator flushes its log.
    if (!stack.wait_outbox_empty(std::chrono::seconds(180))) faults.violations.push_back("the outbox did not drain in 180 s");
    if (stack.stop_sender(SIGTERM) != 0) faults.violations.push_back("the sender did not stop cleanly at the end");
    stack.sim.stop();
    stack.fcm_sim->stop();

    std::vector<std::string> violations = faults.violations;
    PushLog pushes = read_push_log(pushsync::test::read_file(stack.sim.log_file()), violations);
    read_fcm_push_log(pushsync::test::read_file(stack.fcm_sim->log_file()), pushes, violations);
    const std::string ctl = (pushsync::test::binary_dir() / "cli" / "pushsyncctl").string();
    const auto exported = pushsync::test::run({ctl, "--config", stack.nginx.config_path().string(), "export"});
    if (exported.exit_code != 0) violations.push_back("pushsyncctl export failed: " + exported.err);
    const auto check = pushsync::test::run({ctl, "--config", stack.nginx.config_path().string(), "check"});
    if (check.exit_code != 0) violations.push_back("pushsyncctl check: " + check.out + check.err);
    const auto queue = pushsync::test::run({ctl, "--config", stack.nginx.config_path().string(), "queue", "--json"});
    const auto q = nlohmann::json::parse(queue.out, nullptr, false);
    if (!q.is_object() || !q.contains("queue") || q["queue"].value("depth", 1) != 0) violations.push_back("the queue is not empty at the end: " + queue.out);
    // Nothing in this run forges a slot: a rejected one is a lost notify.
    if (q.is_object() && q.value("rejected_slots", 0) != 0) {
        violations.push_back("the sender rejected slots nobody forged: " + queue.out);
    }
    const std::string counters = q.is_object() && q.contains("counters") ? q["counters"].dump() : "";
    // The hidden-token check: no log of the run names any device's full token (register, move,
    // delete, notify with origin, 410 prunes, killed workers and senders, reloads alike).
    {
        std::set<std::string> tokens = stack.tokens;
        for (const auto& r : run.records) {
            for (const auto& d : r->devices) tokens.insert(d.token);
        }
        auto logs = pushsync::test::nginx_logs(stack.nginx);
        logs.push_back(stack.sender_log());
        const auto seen = pushsync::test::full_tokens_in_files(tokens, logs);
        for (std::size_t i = 0; i < seen.size() && i < 20; ++i) {
            violations.push_back("a full token in a log: " + seen[i].file + ":" + std::to_string(seen[i].line) + ": " +
                                 seen[i].text.substr(0, 200));
        }
        if (seen.size() > 20) violations.push_back(std::to_string(seen.size() - 20) + " more lines with a full token");
    }

    std::vector<ClientRecord*> records;
    for (auto& r : run.records) records.push_back(r.get());
    Verdict v = judge(records, pushes, read_store_export(exported.out));
    v.violations.insert(v.violations.begin(), violations.begin(), violations.end());
    if (faults.injected.size() + o.without.size() != fault_kinds.size()) v.violations.push_back("not every fault kind was injected");
    if (run.queue_full_seen == 0) v.violations.push_back("no 503 queue_full was seen");
    print_table(o, std::chrono::duration<double>(Clock::now() - started).count(), run, faults, v);
    print_failed_pushes(stack.sender_log());
    if (!v.violations.empty()) {
        // The stack's folder goes with it: keep what a post-mortem needs.
        const std::filesystem::path keep = std::filesystem::temp_directory_path() / ("pushsync-soak-" + std::to_string(o.seed));
        std::filesystem::create_directories(keep);
        auto kept = pushsync::test::nginx_logs(stack.nginx);  // error, access and the master's stderr
        kept.push_back(stack.sender_log());
        kept.push_back(stack.sim.log_file());
        kept.push_back(stack.fcm_sim->log_file());
        for (const auto& f : kept) {
            std::filesystem::copy_file(f, keep / f.filename(), std::filesystem::copy_options::overwrite_existing);
        }
        std::printf("%-22s %s\n", "kept for post-mortem", keep.c_str());
    }
    std::printf("%-22s %s\n", "counters at the end", counters.c_str());
    return v.violations.empty() ? 0 : 1;
}

}  // namespace
}  // namespace pushsync::soak

int main(int argc, char** argv) {
    pushsync::soak::Options options;
    try {
        options = pushsync::soak::parse(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "pushsync-soak: " << e.what() << " (see --help)\n";
        return 2;
    }
    try {
        return pushsync::soak::soak(options);
    } catch (const std::exception& e) {
        std::cerr << "pushsync-soak: " << e.what() << "\n";
        return 2;
    }
}
