// SPDX-License-Identifier: BSD-2-Clause
// How registrations reach the store: on the thread pool (pushsync_thread_pool), committed in
// groups (group commit), with bodies that nginx buffered to a temp file.
#include <gtest/gtest.h>

#include <lmdb.h>

#include <numeric>
#include <regex>

#include "tests/ngx_module/store_probe.hpp"
#include "tests/ngx_module/test_helpers.hpp"

namespace pushsync::test {
namespace {

// Holds LMDB's writer lock on the store from this process, as another writer would.
class WriterLock {
public:
    explicit WriterLock(const std::filesystem::path& store) {
        EXPECT_EQ(mdb_env_create(&env_), 0);
        mdb_env_set_maxdbs(env_, 32);
        EXPECT_EQ(mdb_env_open(env_, store.c_str(), MDB_NOTLS, 0664), 0);
        EXPECT_EQ(mdb_txn_begin(env_, nullptr, 0, &txn_), 0);
    }
    ~WriterLock() { release(); }
    void release() {
        if (txn_) mdb_txn_abort(txn_);
        txn_ = nullptr;
        if (env_) mdb_env_close(env_);
        env_ = nullptr;
    }

private:
    MDB_env* env_ = nullptr;
    MDB_txn* txn_ = nullptr;
};

// Requests nginx is processing (stub_status "Writing"), the probe itself included.
int requests_in_progress(const NginxFixture& nginx) {
    const auto r = nginx.request("GET", "/stub");
    std::smatch m;
    if (!std::regex_search(r.body, m, std::regex(R"(Writing: (\d+))"))) return -1;
    return std::stoi(m[1]);
}

std::vector<std::string> curl_put(const NginxFixture& nginx, const std::string& path) {
    return {"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", "Content-Type: application/json",
            "--data-binary", register_body(), nginx.url(path)};
}

TEST(ModuleWrites, RegistrationsArrivingTogetherShareOneTransaction) {
    NginxFixture nginx(NginxOptions{.workers = 1,
                                    .main_extra = "thread_pool pushsync_writers threads=1;",
                                    .http_extra = "pushsync_thread_pool pushsync_writers;",
                                    .server_extra = "location = /stub { stub_status; }"});
    WriterLock lock(nginx.store_path());
    // The first registration's transaction waits for the lock on the pool's only thread...
    auto first = Process::spawn(curl_put(nginx, "/v1/groups/g/devices/" + make_token(0)));
    ASSERT_TRUE(wait_until([&] { return requests_in_progress(nginx) == 2; }));
    // ...so these three queue up in the worker meanwhile.
    std::vector<Process> rest;
    for (unsigned i = 1; i <= 3; ++i) rest.push_back(Process::spawn(curl_put(nginx, "/v1/groups/g/devices/" + make_token(i))));
    ASSERT_TRUE(wait_until([&] { return requests_in_progress(nginx) == 5; }));
    lock.release();

    EXPECT_EQ(first.wait(), 0);
    for (auto& p : rest) EXPECT_EQ(p.wait(), 0);
    for (unsigned i = 0; i <= 3; ++i) EXPECT_TRUE(stored_device(nginx.store_path(), make_token(i))) << i;
    // Two transactions for the four: the first one's, and one for the three that queued behind it
    // (the pool thread takes the pending writes when it starts, so under load the first may also
    // take one of the three: still two).
    const std::string log = nginx.error_log();
    const std::regex batch_line(R"(write batch committed registrations=(\d+) )");
    std::vector<int> batches;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), batch_line); it != std::sregex_iterator(); ++it) {
        batches.push_back(std::stoi((*it)[1]));
    }
    EXPECT_EQ(batches.size(), 2u) << log;
    EXPECT_EQ(std::accumulate(batches.begin(), batches.end(), 0), 4) << log;
}

TEST(ModuleWrites, ClientsThatLeaveWhileTheirWriteWaitsCrashNothing) {
    NginxFixture nginx(NginxOptions{.workers = 1, .server_extra = "location = /stub { stub_status; }"});
    const auto workers = nginx.worker_pids();
    WriterLock lock(nginx.store_path());
    // One HTTP/1.1 client and one HTTP/2 client give up (curl --max-time) while their
    // registrations wait for the store.
    auto h1 = Process::spawn({"curl", "-sS", "--max-time", "1", "-X", "PUT", "-H", "Content-Type: application/json",
                              "--data-binary", register_body(), nginx.url("/v1/groups/g/devices/" + make_token(1))});
    auto h2 = Process::spawn({"curl", "-sS", "--max-time", "1", "--http2-prior-knowledge", "-X", "PUT", "-H",
                              "Content-Type: application/json", "--data-binary", register_body(),
                              nginx.url("/v1/groups/g/devices/" + make_token(2), Protocol::h2c)});
    EXPECT_EQ(h1.wait(), 28);  // curl: operation timed out
    EXPECT_EQ(h2.wait(), 28);
    lock.release();

    // The writes were taken, so they commit; the worker answers into closed connections.
    ASSERT_TRUE(wait_until([&] { return requests_in_progress(nginx) == 1; }));
    EXPECT_TRUE(stored_device(nginx.store_path(), make_token(1)));
    EXPECT_TRUE(stored_device(nginx.store_path(), make_token(2)));
    EXPECT_EQ(nginx.worker_pids(), workers);  // no worker died
    EXPECT_EQ(nginx.error_log().find("exited on signal"), std::string::npos) << nginx.error_log();
    for (Protocol p : all_protocols) {
        EXPECT_EQ(nginx.request("GET", "/v1/groups/g/devices", {}, {}, p).status, 200) << to_string(p);
    }
    EXPECT_TRUE(store_problems(nginx.store_path()).empty());
}

TEST(ModuleWrites, ManyStreamsOnOneHttp2Connection) {
    NginxFixture nginx;
    // TLS: curl 7.88 does not reuse an h2c prior-knowledge connection for a second transfer.
    std::vector<std::string> argv = {"curl", "-sS", "--http2", "--cacert", nginx.cert_path().string(), "--parallel",
                                     "--parallel-max", "32",
                                     "-o", "/dev/null", "-w", "%{http_code}\n", "-X", "PUT", "-H",
                                     "Content-Type: application/json", "--data-binary", register_body()};
    for (unsigned i = 0; i < 24; ++i) {
        argv.push_back(nginx.url("/v1/groups/many/devices/" + make_token(i), Protocol::h2_tls));
    }
    const auto result = run(argv);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    std::size_t created = 0;
    for (auto at = result.out.find("201"); at != std::string::npos; at = result.out.find("201", at + 3)) ++created;
    EXPECT_EQ(created, 24u) << result.out;
    EXPECT_EQ(stored_group(nginx.store_path(), "many").size(), 24u);
}

TEST(ModuleWrites, UnknownThreadPoolFailsNginxTest) {
    NginxFixture nginx(NginxOptions{.http_extra = "pushsync_thread_pool nosuchpool;", .start = false});
    const auto result = nginx.test_config();
    EXPECT_NE(result.exit_code, 0);
    EXPECT_NE((result.err + nginx.error_log()).find("nosuchpool"), std::string::npos) << result.err;
}

TEST(ModuleWrites, BodyBufferedToATempFileIsRead) {
    NginxFixture nginx(NginxOptions{.server_extra = R"(
    location /small/ { pushsync_api; client_body_buffer_size 1k; client_body_in_file_only on; })"});
    const std::string padded = register_body("com.example.app", R"(,"pad":")" + std::string(3000, 'p') + "\"");
    for (Protocol p : all_protocols) {
        const std::string token = make_token(static_cast<unsigned>(p) + 1);
        const auto r = nginx.request("PUT", "/small/groups/g/devices/" + token, padded, {}, p);
        EXPECT_TRUE(answers(r, 201)) << to_string(p);
        EXPECT_TRUE(stored_device(nginx.store_path(), token)) << to_string(p);
    }
    const std::string big = register_body("com.example.app", R"(,"pad":")" + std::string(5000, 'p') + "\"");
    const std::string before = store_dump(nginx.store_path());
    EXPECT_TRUE(answers(nginx.request("PUT", "/small/groups/g/devices/" + make_token(9), big, {"Transfer-Encoding: chunked"}),
                        413, "body_too_large"));
    EXPECT_EQ(store_dump(nginx.store_path()), before);
}

TEST(ModuleStatus, SenderAliveFollowsTheConsumerHeartbeat) {
    NginxFixture nginx;
    EXPECT_EQ(json_of(nginx.request("GET", "/pushsync/status"))["sender"]["alive"], false);
    Queue::open_existing(nginx.queue_path().string())->heartbeat(now_unix_ms());
    EXPECT_EQ(json_of(nginx.request("GET", "/pushsync/status"))["sender"]["alive"], true);
    EXPECT_NE(nginx.request("GET", "/pushsync/metrics").body.find("pushsync_sender_alive 1\n"), std::string::npos);
    Queue::open_existing(nginx.queue_path().string())->heartbeat(now_unix_ms() - 6000);
    EXPECT_EQ(json_of(nginx.request("GET", "/pushsync/status"))["sender"]["alive"], false);
}

}  // namespace
}  // namespace pushsync::test
