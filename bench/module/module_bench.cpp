// SPDX-License-Identifier: BSD-2-Clause
// Benchmarks of the module with wrk (keep-alive) against one nginx per store.sync mode; each
// figure is set against a `return 204` location of the same server measured in the same run.
//   module_bench [SECONDS=10] [CONNECTIONS=32] [ROUNDS=3]   prints Markdown rows for BENCHMARKS.md
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>

#include "bench/options.hpp"
#include "tests/support/nginx_fixture.hpp"

using namespace pushsync::test;

namespace {

struct WrkResult {
    double requests_per_s = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    long non_2xx = 0;
    long socket_errors = 0;
};

double to_ms(double value, const std::string& unit) {
    if (unit == "us") return value / 1000;
    if (unit == "s") return value * 1000;
    return value;
}

WrkResult run_wrk(const std::string& url, int seconds, int connections, const std::string& script = {}) {
    std::vector<std::string> argv = {"wrk", "-t2", "-c" + std::to_string(connections),
                                     "-d" + std::to_string(seconds) + "s", "--latency"};
    if (!script.empty()) argv.insert(argv.end(), {"-s", script});
    argv.push_back(url);
    const CommandResult r = run(argv);
    if (r.exit_code != 0) throw std::runtime_error("wrk failed: " + r.err);
    WrkResult out;
    std::smatch m;
    if (std::regex_search(r.out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) out.requests_per_s = std::stod(m[1]);
    if (std::regex_search(r.out, m, std::regex(R"(\s50%\s+([0-9.]+)(us|ms|s)\b)"))) out.p50_ms = to_ms(std::stod(m[1]), m[2]);
    if (std::regex_search(r.out, m, std::regex(R"(\s99%\s+([0-9.]+)(us|ms|s)\b)"))) out.p99_ms = to_ms(std::stod(m[1]), m[2]);
    if (std::regex_search(r.out, m, std::regex(R"(Non-2xx or 3xx responses:\s+(\d+))"))) out.non_2xx = std::stol(m[1]);
    if (std::regex_search(r.out, m, std::regex(R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))"))) {
        out.socket_errors = std::stol(m[1]) + std::stol(m[2]) + std::stol(m[3]) + std::stol(m[4]);
    }
    if (out.requests_per_s == 0) throw std::runtime_error("cannot read wrk output:\n" + r.out);
    return out;
}

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

struct Pair {
    WrkResult result;
    WrkResult baseline;
    double ratio() const { return result.requests_per_s / baseline.requests_per_s; }
};

// The machine is shared: baseline and figure alternate `rounds` times and the pair with the
// median ratio is reported, so a burst of someone else's load skews one pair, not the figure.
Pair measure(const std::string& baseline_url, const std::string& url, const std::string& script, int seconds,
             int connections, int rounds) {
    std::vector<Pair> pairs;
    for (int i = 0; i < rounds; ++i) {
        Pair p;
        p.baseline = run_wrk(baseline_url, seconds, connections);
        p.result = run_wrk(url, seconds, connections, script);
        pairs.push_back(p);
    }
    std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.ratio() < b.ratio(); });
    return pairs[pairs.size() / 2];
}

void row(const std::string& figure, const Pair& pair, double target, const std::string& command) {
    const WrkResult& result = pair.result;
    const WrkResult& baseline = pair.baseline;
    const double ratio = pair.ratio();
    std::printf("| %s | %s req/s | %s req/s | **%s** (target ≥ %s) | %s / %s ms | %s / %s ms | %s |\n", figure.c_str(),
                fixed(result.requests_per_s, 0).c_str(), fixed(baseline.requests_per_s, 0).c_str(),
                fixed(ratio, 2).c_str(), fixed(target, 2).c_str(), fixed(result.p50_ms, 2).c_str(),
                fixed(result.p99_ms, 2).c_str(), fixed(baseline.p50_ms, 2).c_str(), fixed(baseline.p99_ms, 2).c_str(),
                command.c_str());
    std::fflush(stdout);
    // A rate of refusals (409 group_full, 503) or broken connections measured something else.
    if (result.non_2xx != 0 || result.socket_errors != 0) {
        throw std::runtime_error(figure + " had " + std::to_string(result.non_2xx) + " non-2xx answers and " +
                                 std::to_string(result.socket_errors) + " socket errors");
    }
}

}  // namespace

int main(int argc, char** argv) {
    int seconds = 10, connections = 32, rounds = 3;
    std::string only;
    pushsync::bench::Options("module_bench",
                             "wrk against nginx with the module, each figure beside `return 204` on the same server; "
                             "prints Markdown rows\nfor BENCHMARKS.md (bench/module/run.sh runs it).")
        .positional("SECONDS", "length of each wrk run", seconds)
        .positional("CONNECTIONS", "wrk connections", connections)
        .positional("ROUNDS", "baseline/figure pairs (the median ratio is shown)", rounds)
        .value("--only", "KIND", "only the rows of one kind: register or notify (profiling, quick checks)", only)
        .parse(argc, argv);
    if (!only.empty() && only != "register" && only != "notify") {
        std::fprintf(stderr, "module_bench: --only takes register or notify\n");
        return 2;
    }
    const bool registers = only != "notify", notifies = only != "register";
    const auto scripts = source_dir() / "bench" / "module";
    const std::string command = "`bench/module/run.sh " + std::to_string(seconds) + " " + std::to_string(connections) +
                                " " + std::to_string(rounds) + "`";
    try {
        for (const std::string sync : {"always", "interval"}) {
            if (!registers && sync != "always") continue;
            NginxFixture nginx(NginxOptions{.queue_capacity = 65536,
                                            .store_sync = sync,
                                            .map_size = "1GiB",
                                            // register.lua spreads new tokens over 1000 groups:
                                            // a long run passes the default cap of 1000 each.
                                            .store_yaml = "  max_devices_per_group: 0\n",
                                            .error_log_level = "warn",
                                            .thread_pool_threads = 2});
            const std::string base = nginx.url("/baseline");

            const std::string reg_script = (scripts / "register.lua").string();
            if (registers) {
                // The targets, as shares of the baseline's rate: durable registrations at 32 connections
                // 0.35, the rest 0.25.
                row("register, `sync: " + sync + "`, " + std::to_string(connections) + " connections",
                    measure(base, nginx.url("/"), reg_script, seconds, connections, rounds),
                    sync == "always" ? 0.35 : 0.25, command);
            }
            if (registers && sync == "always") {
                // Group commit: more concurrent registrations share each fsync.
                const int many = connections * 8;
                row("register, `sync: always`, " + std::to_string(many) + " connections",
                    measure(base, nginx.url("/"), reg_script, seconds, many, rounds), 0.25, command);
            }
            if (notifies && sync == "always") {
                // The notify group: three devices, the origin is one of them.
                for (const char* t : {"00000000000000000000000000000001", "00000000000000000000000000000002",
                                      "00000000000000000000000000000003"}) {
                    const auto r = nginx.request("PUT", std::string("/v1/groups/bench-notify/devices/") + t,
                                                 R"({"bundle_id":"com.example.app"})");
                    if (r.status != 201) throw std::runtime_error("setup registration failed: " + r.body + r.error);
                }
                Process drain = Process::spawn({(binary_dir() / "bench/module/pushsync_bench_drain").string(),
                                                nginx.queue_path().string(),
                                                std::to_string(seconds * rounds * 2 + 10)},
                                               nginx.prefix() / "logs/drain.log");
                row("notify (queued, drained)",
                    measure(base, nginx.url("/v1/groups/bench-notify/notify"), (scripts / "notify.lua").string(),
                            seconds, connections, rounds),
                    0.8, command);
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "module_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
