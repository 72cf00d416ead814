// SPDX-License-Identifier: BSD-2-Clause
// The sender's FCM transport (BENCHMARKS.md "## Sender: FCM"), against fcm-sim on loopback with
// its baseline measured in the same run: pushes/s of the whole pipeline (queue → outbox →
// fan-out → one HTTP/2 connection to FCM with fcm.max_streams in flight → record) beside h2load
// sending the same message with the same access token on one connection with the same streams;
// and the sender's CPU per 1000 pushes. Usage: bench_fcm [--pushes N] [--rounds R] [--smoke]
// Any figure not measured as described (a registration refused, a wait timed out, h2load not run,
// fewer pushes or tails than asked for) ends it with one line on stderr and exit 1.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/fail_loudly.hpp"
#include "bench/options.hpp"
#include "bench/proc_stat.hpp"
#include "bench/sender/sender_setup.hpp"
#include "sender/fcm/auth/assertion.hpp"
#include "sender/fcm/auth/service_account.hpp"
#include "sender/fcm/message.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"
#include "tests/support/apns_sim_fixture.hpp"
#include "tests/support/fcm_sim_fixture.hpp"
#include "tests/support/process.hpp"

namespace {

using namespace pushsync;
using namespace pushsync::test;
using namespace pushsync::bench;
using Ms = std::chrono::milliseconds;

constexpr std::uint32_t streams = 100;  // fcm.max_streams' default, for the sender and h2load alike

std::uint64_t sent_counter(Queue& q) { return q.stats().counters[static_cast<unsigned>(Counter::pushes_sent)]; }

// An access token from the simulator's token endpoint, fetched as the sender does (an RS256
// assertion of the service account), for h2load's requests.
std::string access_token(const FcmSimFixture& fcm, const TempDir& dir) {
    const auto account = sender::fcm::load_service_account(fcm.service_account().file.string());
    const std::string form = sender::fcm::token_request_body(
        sender::fcm::make_assertion(account, static_cast<std::int64_t>(std::time(nullptr)), fcm.token_uri()));
    write_file(dir / "token-form", form);
    const auto r = run({"curl", "-s", "--http2", "--cacert", fcm.ca_file().string(), "-H",
                        "content-type: application/x-www-form-urlencoded", "--data-binary",
                        "@" + (dir / "token-form").string(), fcm.token_uri()});
    const auto answer = nlohmann::json::parse(r.out, nullptr, false);
    if (!answer.is_object() || !answer.contains("access_token")) {
        throw Failure("no access token from fcm-sim for h2load (exit " + std::to_string(r.exit_code) + "): " + r.out + r.err);
    }
    return answer["access_token"].get<std::string>();
}

double h2load_fcm_rate(const FcmSimFixture& fcm, const std::string& token, const std::string& body_file,
                       std::uint64_t count) {
    const auto r = run({"h2load", "-n", std::to_string(count), "-c", "1", "-m", std::to_string(streams), "-d", body_file,
                        "-H", "content-type: application/json", "-H", "authorization: Bearer " + token,
                        fcm.url() + "/v1/projects/" + fcm.service_account().project_id + "/messages:send"});
    std::smatch m;
    static const std::regex finished(R"(finished in ([0-9.]+)(m?s))");
    static const std::regex codes(R"(status codes: (\d+) 2xx)");
    double seconds = 0;
    std::uint64_t ok = 0;
    if (std::regex_search(r.out, m, finished)) seconds = std::stod(m[1]) / (m[2] == "ms" ? 1000.0 : 1.0);
    if (std::regex_search(r.out, m, codes)) ok = std::stoull(m[1]);
    if (seconds == 0 || ok != count) {
        throw Failure("the h2load reference did not run: " + std::to_string(ok) + " of " + std::to_string(count) +
                      " answered 200 (exit " + std::to_string(r.exit_code) + "):\n" + r.out + r.err);
    }
    return static_cast<double>(ok) / seconds;
}

// Every fcm device has `tail` as its newest pushed tail in the store, within 30 s.
void expect_newest_tail(const Setup& setup, std::uint64_t devices, const std::string& tail) {
    StoreOptions read_only = StoreOptions::from(setup.config().store);
    read_only.read_only = true;
    const Store store(read_only);
    std::vector<std::string> tokens;
    for (std::uint64_t n = 0; n < devices; ++n) tokens.push_back(fcm_token_of(n));
    const auto with_tail = [&] {
        std::vector<std::pair<std::string_view, std::string_view>> pairs;
        for (const auto& t : tokens) pairs.emplace_back(t, tail);
        const std::vector<bool> sent = store.were_sent(pairs);
        return static_cast<std::uint64_t>(std::count(sent.begin(), sent.end(), true));
    };
    wait_for_count(with_tail, devices, "devices with the newest tail " + tail, "the delivered tails in the store",
                   Ms(30000), Ms(20));
}

void bench_fcm_throughput(std::uint64_t pushes, int rounds) {
    ApnsSimOptions ao;
    ao.extra_args = {"--quiet", "--log-memory", "0"};
    ApnsSimFixture apns(ao);
    FcmSimOptions fo;
    fo.projects = {"pushsync-bench"};
    fo.max_streams = 1000;  // the simulator is not the limit: both clients keep `streams` in flight
    fo.extra_args = {"--quiet", "--log-memory", "0"};
    FcmSimFixture fcm(fo);
    Setup setup(apns, "  coalesce_ms: 0\n", "1GiB");
    setup.add_fcm(fcm, "  coalesce_ms: 0\n");
    setup.register_fcm_devices(pushes, "bench");
    Process sender = setup.start_sender();
    auto queue = setup.open_queue();
    const auto sent = [&] { return sent_counter(*queue); };
    const std::string token = access_token(fcm, setup.dir);
    write_file(setup.dir / "message.json",
               sender::fcm::message_body(fcm_token_of(0), "T-h2load", AndroidPriority::high, 3600));
    // Warm-up round, off the clock: connection, access token, LMDB pages.
    const std::uint64_t sent0 = sent();
    enqueue_or_fail(*queue, Notify{"bench", "warm", "", now_unix_ms()});
    wait_for_count(sent, sent0 + pushes, "sent", "fcm throughput warm-up round", Ms(120000), Ms(1));
    std::vector<double> ratios;
    double best_sender = 0, best_h2load = 0;
    std::string tail;
    for (int round = 1; round <= rounds; ++round) {
        const double sim_cpu0 = cpu_ms(fcm.pid());
        const double h2 = h2load_fcm_rate(fcm, token, (setup.dir / "message.json").string(), pushes);
        const double sim_cpu1 = cpu_ms(fcm.pid());
        const double sender_cpu0 = cpu_ms(sender.pid());
        const std::uint64_t before = sent();
        const auto start = std::chrono::steady_clock::now();
        tail = "T-round-" + std::to_string(round);
        enqueue_or_fail(*queue, Notify{"bench", tail, "", now_unix_ms()});
        wait_for_count(sent, before + pushes, "sent", "fcm throughput round " + std::to_string(round), Ms(120000), Ms(1));
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double sim_cpu2 = cpu_ms(fcm.pid());
        const double sender_cpu1 = cpu_ms(sender.pid());
        const double ours = pushes / secs;
        const double per_k = 1000.0 / static_cast<double>(pushes);
        std::printf("round %d: h2load %.0f pushes/s, pushsync-sender %.0f pushes/s (ratio %.2f); CPU ms per 1000 "
                    "pushes: fcm-sim %.1f under h2load, %.1f under the sender; sender %.1f; load %s\n",
                    round, h2, ours, ours / h2, (sim_cpu1 - sim_cpu0) * per_k, (sim_cpu2 - sim_cpu1) * per_k,
                    (sender_cpu1 - sender_cpu0) * per_k, load_average().c_str());
        std::fflush(stdout);
        ratios.push_back(ours / h2);
        best_sender = std::max(best_sender, ours);
        best_h2load = std::max(best_h2load, h2);
    }
    const std::uint64_t expected = sent0 + pushes * static_cast<std::uint64_t>(rounds + 1);
    if (sent() != expected) {
        throw Failure("sent " + std::to_string(sent() - sent0) + " pushes for " + std::to_string(rounds + 1) +
                      " rounds of " + std::to_string(pushes));
    }
    if (rounds > 0) expect_newest_tail(setup, pushes, tail);
    const auto counters = fcm.counters();
    if (counters.value("tokens_issued", 0) < 1) throw Failure("the sender fetched no access token");
    sender.signal(SIGTERM);
    sender.wait(Ms(10000));
    std::sort(ratios.begin(), ratios.end());
    const double median = ratios.empty() ? 0.0 : ratios[ratios.size() / 2];
    std::printf("| FCM pushes/s, one connection, %u streams (best of %d; %llu pushes a round, all sent, every device "
                "its newest tail) | %.0f | h2load -c1 -m%u: %.0f | %.2f (median of the rounds' ratios: %.2f) |\n",
                streams, rounds, static_cast<unsigned long long>(pushes), best_sender, streams, best_h2load,
                best_h2load > 0 ? best_sender / best_h2load : 0.0, median);
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t pushes = 50000;
    int rounds = 5;
    bool smoke = false;
    pushsync::bench::Options("bench_fcm",
                             "The sender's FCM transport against fcm-sim: pushes/s beside h2load on the same "
                             "simulator;\nprints a Markdown row for BENCHMARKS.md.")
        .value("--pushes", "N", "pushes per round", pushes)
        .value("--rounds", "R", "rounds (the median of their ratios is shown)", rounds)
        .flag("--smoke", "seconds, not figures: 2,000 pushes, one round (ctest's bench_smoke)", [&] { smoke = true; })
        .parse(argc, argv);
    if (smoke) {
        pushes = 2000;
        rounds = 1;
    }
    if (pushes == 0 || rounds < 0) {
        std::fprintf(stderr, "bench_fcm: --pushes must be above 0, --rounds at least 0\n");
        return 2;
    }
    try {
        std::printf("load average at start: %s\n", load_average().c_str());
        std::printf("| benchmark | pushsync-sender | baseline (same run) | ratio |\n|---|---|---|---|\n");
        std::fflush(stdout);
        bench_fcm_throughput(pushes, rounds);
        std::printf("load average at end: %s\n", load_average().c_str());
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "bench_fcm: %s\n", e.what());
        return 1;
    }
    return 0;
}
