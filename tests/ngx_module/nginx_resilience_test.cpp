// SPDX-License-Identifier: BSD-2-Clause
// Under a steady load of registrations, `nginx -s reload` and a SIGKILLed worker lose no answered
// registration and leave the store consistent (pushsyncctl check).
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "tests/ngx_module/store_probe.hpp"
#include "tests/ngx_module/test_helpers.hpp"

namespace pushsync::test {
namespace {

struct Answered {
    std::string token;
    std::string group;
};

// Clients registering new tokens as fast as curl allows; keeps every answered 200/201.
class RegistrationLoad {
public:
    explicit RegistrationLoad(const NginxFixture& nginx, int clients = 3) {
        for (int c = 0; c < clients; ++c) {
            threads_.emplace_back([this, &nginx, c] {
                for (unsigned i = 0; !stop_; ++i) {
                    const std::string token = make_token(static_cast<unsigned>(c) * 1'000'000u + i, 'c');
                    const std::string group = "load-" + std::to_string(c) + "-" + std::to_string(i % 7);
                    const Protocol p = i % 2 ? Protocol::h2c : Protocol::http1;
                    const auto r = nginx.request("PUT", "/v1/groups/" + group + "/devices/" + token, register_body(), {}, p);
                    std::lock_guard lock(mutex_);
                    if (r.status == 201 || r.status == 200) answered_.push_back({token, group});
                    else ++unanswered_;
                }
            });
        }
    }
    ~RegistrationLoad() { stop(); }

    void stop() {
        stop_ = true;
        for (auto& t : threads_) {
            if (t.joinable()) t.join();
        }
    }
    std::size_t answered_count() {
        std::lock_guard lock(mutex_);
        return answered_.size();
    }
    // Waits until `more` further registrations were answered.
    bool advance(std::size_t more) {
        const std::size_t target = answered_count() + more;
        return wait_until([&] { return answered_count() >= target; }, std::chrono::seconds(30));
    }
    std::vector<Answered> answered() {
        std::lock_guard lock(mutex_);
        return answered_;
    }
    std::size_t unanswered() {
        std::lock_guard lock(mutex_);
        return unanswered_;
    }

private:
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::vector<Answered> answered_;
    std::size_t unanswered_ = 0;
    std::vector<std::thread> threads_;
};

// Every registration nginx answered is in the store, in the group it was answered for.
void expect_answered_registrations_stored(const NginxFixture& nginx, const std::vector<Answered>& answered) {
    std::size_t missing = 0;
    std::string first;
    for (const auto& a : answered) {
        const auto device = stored_device(nginx.store_path(), a.token);
        if (device && device->group == a.group) continue;
        if (missing++ == 0) first = a.token;
    }
    EXPECT_EQ(missing, 0u) << "of " << answered.size() << " answered registrations; first " << first;
}

void expect_store_clean(const NginxFixture& nginx) {
    // pushsyncctl is built with this test (add_dependencies): a missing binary is a broken build,
    // never a reason to check less.
    const auto ctl = binary_dir() / "cli" / "pushsyncctl";
    ASSERT_TRUE(std::filesystem::exists(ctl)) << ctl;
    const auto result = run({ctl.string(), "--config", nginx.config_path().string(), "check"});
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
}

TEST(ModuleResilience, ReloadAndKilledWorkerLoseNoAnsweredRegistration) {
    NginxFixture nginx;
    RegistrationLoad load(nginx);
    ASSERT_TRUE(load.advance(30));

    nginx.reload();
    ASSERT_TRUE(load.advance(30));

    const auto workers = nginx.worker_pids();
    ASSERT_FALSE(workers.empty());
    ASSERT_EQ(::kill(workers.front(), SIGKILL), 0);
    // The master replaces it.
    ASSERT_TRUE(wait_until([&] {
        const auto now = nginx.worker_pids();
        return now.size() == 2 && std::find(now.begin(), now.end(), workers.front()) == now.end();
    }));
    ASSERT_TRUE(load.advance(30));

    nginx.reload();
    ASSERT_TRUE(load.advance(30));
    load.stop();

    const auto answered = load.answered();
    expect_answered_registrations_stored(nginx, answered);
    RecordProperty("answered", static_cast<int>(answered.size()));
    RecordProperty("unanswered", static_cast<int>(load.unanswered()));
    expect_store_clean(nginx);

    // nginx still serves after all that.
    EXPECT_EQ(nginx.request("PUT", "/v1/groups/after/devices/" + make_token(1), register_body()).status, 201);
}

// The upgrade of nginx's docs (USR2, then QUIT to the old master) with the module loaded: the new
// master opens the store and the queue again beside the old one's workers, and nothing answered
// is lost.
TEST(ModuleResilience, BinaryUpgradeLosesNoAnsweredRegistration) {
    NginxFixture nginx(NginxOptions{.daemon = true});
    RegistrationLoad load(nginx);
    ASSERT_TRUE(load.advance(30));
    const pid_t old_master = nginx.master_pid();
    nginx.upgrade_binary();
    EXPECT_NE(nginx.master_pid(), old_master);
    EXPECT_NE(nginx.error_log().find("signal 12 (SIGUSR2) received"), std::string::npos);
    ASSERT_TRUE(load.advance(30));
    load.stop();
    expect_answered_registrations_stored(nginx, load.answered());
    expect_store_clean(nginx);
    for (const char* level : {"[emerg]", "[alert]", "[crit]"}) {
        EXPECT_EQ(nginx.error_log().find(level), std::string::npos) << nginx.error_log();
    }
    EXPECT_EQ(nginx.request("PUT", "/v1/groups/after/devices/" + make_token(1), register_body()).status, 201);
}

TEST(ModuleResilience, IntervalSyncAlsoKeepsAnsweredRegistrationsAcrossReload) {
    NginxFixture nginx(NginxOptions{.store_sync = "interval"});
    RegistrationLoad load(nginx, 2);
    ASSERT_TRUE(load.advance(20));
    nginx.reload();
    ASSERT_TRUE(load.advance(20));
    load.stop();
    expect_answered_registrations_stored(nginx, load.answered());
    expect_store_clean(nginx);
}

}  // namespace
}  // namespace pushsync::test
