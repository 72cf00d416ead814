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
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/fail_loudly.hpp"
#include "bench/h2load_reference.hpp"
#include "bench/options.hpp"
#include "bench/proc_stat.hpp"
#include "bench/sender/sender_setup.hpp"
#include "bench/sender/throughput_rounds.hpp"
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
    return h2load_answered_rate({"h2load", "-n", std::to_string(count), "-c", "1", "-m", std::to_string(streams), "-d",
                                 body_file, "-H", "content-type: application/json", "-H", "authorization: Bearer " + token,
                                 fcm.url() + "/v1/projects/" + fcm.service_account().project_id + "/messages:send"},
                                count);
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
    const std::string token = access_token(fcm, setup.dir);
    write_file(setup.dir / "message.json",
               sender::fcm::message_body(fcm_token_of(0), "T-h2load", AndroidPriority::high, 3600));
    const RoundsResult r = throughput_rounds(setup, *queue, fcm.pid(), sender.pid(), pushes, rounds, fcm_token_of, [&] {
        return h2load_fcm_rate(fcm, token, (setup.dir / "message.json").string(), pushes);
    });
    const auto counters = fcm.counters();
    if (counters.value("tokens_issued", 0) < 1) throw Failure("the sender fetched no access token");
    sender.signal(SIGTERM);
    sender.wait(Ms(10000));
    std::printf("| FCM pushes/s, one connection, %u streams (best of %d; %llu pushes a round, all sent, every device "
                "its newest tail) | %.0f | h2load -c1 -m%u: %.0f | %.2f (median of the rounds' ratios: %.2f) |\n",
                streams, rounds, static_cast<unsigned long long>(pushes), r.best_sender, streams, r.best_h2load,
                r.best_h2load > 0 ? r.best_sender / r.best_h2load : 0.0, r.median_ratio);
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
