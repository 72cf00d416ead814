// SPDX-License-Identifier: BSD-2-Clause
// store.sync: always through the worker's group commit: a registration is answered only once its
// transaction is on disk, also while a second batch commits behind the first, and each batch's
// answers are its own. The disk is held and failed by fsync_gate (LD_PRELOAD into nginx).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "tests/ngx_module/store_probe.hpp"
#include "tests/ngx_module/test_helpers.hpp"

namespace pushsync::test {
namespace {

using namespace std::chrono_literals;

// The test's side of fsync_gate.cpp: the gated fdatasyncs of nginx's one worker, numbered from 1.
class FsyncGate {
public:
    std::map<std::string, std::string> environment() const {
        return {{"LD_PRELOAD", PUSHSYNC_FSYNC_GATE}, {"PUSHSYNC_FSYNC_GATE", dir_.path().string()}};
    }
    // nginx clears its workers' environment but for what `env` names.
    static std::string nginx_main() { return "env PUSHSYNC_FSYNC_GATE;"; }
    void arm() const { std::ofstream(dir_ / "armed").put('\n'); }
    // Lets every held and later fdatasync run, so a failed test's nginx stops at once.
    void disarm() const { std::filesystem::remove(dir_ / "armed"); }
    // The n-th fdatasync of the store's data file has begun and waits for release(n).
    bool arrived(unsigned n) const { return std::filesystem::exists(dir_ / ("arrived-" + std::to_string(n))); }
    ::testing::AssertionResult wait_arrived(unsigned n) const {
        if (wait_until([&] { return arrived(n); })) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "fdatasync " << n << " never began";
    }
    // "ok": it runs; "eio": it fails with EIO.
    void release(unsigned n, const std::string& verdict) const {
        const auto tmp = dir_ / ("tmp-" + std::to_string(n));
        std::ofstream(tmp) << verdict << '\n';
        std::filesystem::rename(tmp, dir_ / ("release-" + std::to_string(n)));
    }

private:
    TempDir dir_;
};

std::future<HttpResponse> put_device(const NginxFixture& nginx, const std::string& group, const std::string& token) {
    return std::async(std::launch::async, [&nginx, group, token] {
        return nginx.request("PUT", "/v1/groups/" + group + "/devices/" + token, register_body());
    });
}

// Long enough for an answer that does not wait for the disk to arrive.
bool unanswered(std::future<HttpResponse>& answer, std::chrono::milliseconds within = 300ms) {
    return answer.wait_for(within) == std::future_status::timeout;
}

// A is committed and waits for its meta page's fsync (gated call 2) when B arrives: B's batch
// commits meanwhile (gated call 3, its data pages) and then waits for its own sync (4), which
// queues behind A's. Neither is answered before its sync returned; A's sync ends as `a_sync`.
void two_batches_in_flight(const std::string& a_sync) {
    FsyncGate gate;
    NginxFixture nginx(NginxOptions{.workers = 1, .main_extra = FsyncGate::nginx_main(), .environment = gate.environment()});
    // Ungated: the worker opens its store, and token 0 exists for B to register again.
    ASSERT_TRUE(answers(nginx.request("PUT", "/v1/groups/b/devices/" + make_token(0), register_body()), 201));
    gate.arm();
    std::future<HttpResponse> a, b;
    struct Disarm {
        const FsyncGate& gate;
        ~Disarm() { gate.disarm(); }
    } disarm{gate};  // destroyed first: a failed assertion leaves no request or nginx waiting

    a = put_device(nginx, "a", make_token(1));
    ASSERT_TRUE(gate.wait_arrived(1));  // A's data pages, under LMDB's writer lock
    EXPECT_TRUE(unanswered(a, 0ms));
    gate.release(1, "ok");
    ASSERT_TRUE(gate.wait_arrived(2));  // A's meta page: committed, not yet durable
    EXPECT_TRUE(unanswered(a)) << "answered before its commit was on disk";

    b = put_device(nginx, "b", make_token(0));
    ASSERT_TRUE(gate.wait_arrived(3)) << "the worker's second batch did not commit while the first was syncing";
    gate.release(3, "ok");
    EXPECT_TRUE(unanswered(b)) << "answered before its commit was on disk";
    EXPECT_TRUE(unanswered(a, 0ms));

    gate.release(2, a_sync);
    const HttpResponse a_answer = a.get();
    ASSERT_TRUE(gate.wait_arrived(4));  // B's meta page: A's sync began before B committed
    EXPECT_TRUE(unanswered(b)) << "answered before its commit was on disk";
    gate.release(4, "ok");
    const HttpResponse b_answer = b.get();

    if (a_sync == "eio") {
        EXPECT_TRUE(answers(a_answer, 503, "store_unavailable"));
    } else {
        ASSERT_TRUE(answers(a_answer, 201));
        EXPECT_EQ(json_of(a_answer).value("token", ""), make_token(1));
        EXPECT_EQ(json_of(a_answer).value("group", ""), "a");
    }
    ASSERT_TRUE(answers(b_answer, 200)) << "B's answer is its own, whatever A's sync did";
    EXPECT_EQ(json_of(b_answer).value("token", ""), make_token(0));
    EXPECT_EQ(json_of(b_answer).value("group", ""), "b");
    EXPECT_TRUE(stored_device(nginx.store_path(), make_token(1)));  // committed either way
    EXPECT_FALSE(gate.arrived(5));
}

TEST(ModuleDurability, AnswersWaitForTheirSyncWithTwoBatchesInFlight) {
    two_batches_in_flight("ok");
}

TEST(ModuleDurability, AFailedSyncFailsOnlyItsOwnBatch) {
    two_batches_in_flight("eio");
}

}  // namespace
}  // namespace pushsync::test
