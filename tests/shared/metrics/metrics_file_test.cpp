// SPDX-License-Identifier: BSD-2-Clause
// The metrics file: what the sender's writer adds is what nginx's reader sees, counts carry on
// across restarts, the tables stay bounded, and a damaged or hostile file never makes the reader
// read out of bounds.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "shared/metrics/file.hpp"
#include "tests/support/process.hpp"

namespace pushsync::metrics {
namespace {

using test::TempDir;

Snapshot read_ok(const std::string& path) {
    std::string error;
    auto snapshot = read_metrics(path, error);
    EXPECT_TRUE(snapshot) << error;
    return snapshot ? *snapshot : Snapshot{};
}

// Overwrites the file's bytes with what `change` does to a copy of its layout.
template <typename F>
void tamper(const std::string& path, F change) {
    auto file = std::make_unique<MetricsFile>();
    std::ifstream(path, std::ios::binary).read(reinterpret_cast<char*>(file.get()), sizeof(MetricsFile));
    change(*file);
    std::ofstream(path, std::ios::binary | std::ios::in | std::ios::out)
        .write(reinterpret_cast<const char*>(file.get()), sizeof(MetricsFile));
}

TEST(MetricsFile, WhatTheWriterAddsTheReaderSeesAndItCarriesOnAfterARestart) {
    TempDir dir;
    const std::string path = (dir.path() / "queue.metrics").string();
    {
        auto writer = MetricsWriter::open(path);
        const auto app = writer->app("com.example.app", Environment::production);
        EXPECT_EQ(writer->app("com.example.app", Environment::production), app);
        writer->count_response(app, "200", "");
        writer->count_response(app, "200", "");
        writer->count_response(app, "410", "Unregistered");
        writer->observe_request(app, 800);        // first bucket (<= 1 ms)
        writer->observe_request(app, 20'000'000);  // +Inf
        writer->observe_notify_to_push(120'000);
        writer->set_credential_expiry("com.example.app", 1'800'000'000);
    }
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0660u);

    auto writer = MetricsWriter::open(path);  // a restarted sender
    writer->count_response(writer->app("com.example.app", Environment::production), "200", "");
    const Snapshot snapshot = read_ok(path);
    ASSERT_EQ(snapshot.apps.size(), 1u);
    EXPECT_EQ(snapshot.apps[0].bundle_id, "com.example.app");
    EXPECT_EQ(snapshot.apps[0].environment, Environment::production);
    EXPECT_EQ(snapshot.apps[0].credential_expiry_s, 1'800'000'000);
    EXPECT_EQ(snapshot.apps[0].request.count(), 2u);
    EXPECT_EQ(snapshot.apps[0].request.buckets.front(), 1u);
    EXPECT_EQ(snapshot.apps[0].request.buckets.back(), 1u);
    EXPECT_EQ(snapshot.apps[0].request.sum_us, 20'000'800u);
    ASSERT_EQ(snapshot.responses.size(), 2u);
    EXPECT_EQ(snapshot.responses[0].status, "200");
    EXPECT_EQ(snapshot.responses[0].count, 3u);
    EXPECT_EQ(snapshot.responses[1].reason, "Unregistered");
    EXPECT_EQ(snapshot.responses[1].environment, "production");
    EXPECT_EQ(snapshot.notify_to_push.count(), 1u);
}

// An iOS app and its Android namesake: two cells, each answer under its own platform, across a
// restart; a cell byte naming no platform is left out.
TEST(MetricsFile, EachPlatformOfAnAppHasItsOwnCell) {
    TempDir dir;
    const std::string path = (dir.path() / "queue.metrics").string();
    {
        auto writer = MetricsWriter::open(path);
        const auto ios = writer->app("com.example.app", Environment::production);
        const auto android = writer->app("com.example.app", Environment::production, Platform::fcm);
        EXPECT_NE(ios, android);
        writer->count_response(ios, "410", "Unregistered");
        writer->count_response(android, "404", "UNREGISTERED");
        writer->count_response(android, "404", "UNREGISTERED");
    }
    auto writer = MetricsWriter::open(path);  // a restarted sender finds both cells
    writer->count_response(writer->app("com.example.app", Environment::production, Platform::fcm), "200", "");
    Snapshot snapshot = read_ok(path);
    ASSERT_EQ(snapshot.apps.size(), 2u);
    EXPECT_EQ(snapshot.apps[0].platform, Platform::apns);
    EXPECT_EQ(snapshot.apps[1].platform, Platform::fcm);
    ASSERT_EQ(snapshot.responses.size(), 3u);
    EXPECT_EQ(snapshot.responses[0].platform, Platform::apns);
    EXPECT_EQ(snapshot.responses[1].platform, Platform::fcm);
    EXPECT_EQ(snapshot.responses[1].count, 2u);
    EXPECT_EQ(snapshot.responses[2].platform, Platform::fcm);
    EXPECT_EQ(snapshot.responses[2].status, "200");

    writer->count_fcm_token_fetch(true);
    writer->count_fcm_token_fetch(false);
    writer->count_fcm_token_fetch(true);
    snapshot = read_ok(path);
    EXPECT_EQ(snapshot.fcm_token_fetches, 3u);
    EXPECT_EQ(snapshot.fcm_token_fetch_failures, 1u);

    writer.reset();
    tamper(path, [](MetricsFile& file) { file.app[1].environment = 0x70; });
    snapshot = read_ok(path);
    ASSERT_EQ(snapshot.apps.size(), 1u);
    EXPECT_EQ(snapshot.apps[0].platform, Platform::apns);
}

TEST(MetricsFile, HoldCountersCarryOnTheWaitingGaugeIsSetAndTheStatusReadSeesThem) {
    TempDir dir;
    const std::string path = (dir.path() / "queue.metrics").string();
    {
        auto writer = MetricsWriter::open(path);
        writer->count_hold(HoldEvent::held);
        writer->count_hold(HoldEvent::held);
        writer->count_hold(HoldEvent::merged);
        writer->count_hold(HoldEvent::released);
        writer->count_hold(HoldEvent::dropped);
        writer->set_waiting_pushes(7);
    }
    auto writer = MetricsWriter::open(path);  // a restarted sender: counters go on, the gauge is its own
    writer->count_hold(HoldEvent::released);
    writer->set_waiting_pushes(0);
    std::string error;
    const auto holds = read_hold_figures(path, error);
    ASSERT_TRUE(holds) << error;
    EXPECT_EQ(holds->held, 2u);
    EXPECT_EQ(holds->merged, 1u);
    EXPECT_EQ(holds->released, 2u);
    EXPECT_EQ(holds->dropped, 1u);
    EXPECT_EQ(holds->waiting, 0u);
    EXPECT_EQ(read_ok(path).holds.released, 2u);

    tamper(path, [](MetricsFile& f) { f.version = 1; });  // an older sender's file
    EXPECT_FALSE(read_hold_figures(path, error));
    EXPECT_NE(error.find("not a metrics file of this version"), std::string::npos) << error;
    ASSERT_EQ(::truncate(path.c_str(), 64), 0);
    EXPECT_FALSE(read_hold_figures(path, error));
}

TEST(MetricsFile, OneWriterAtATime) {
    TempDir dir;
    const std::string path = (dir.path() / "queue.metrics").string();
    auto first = MetricsWriter::open(path);
    EXPECT_THROW(MetricsWriter::open(path), std::runtime_error);
}

TEST(MetricsFile, AFloodOfReasonsStaysInTheTableAndIsStillCounted) {
    TempDir dir;
    const std::string path = (dir.path() / "queue.metrics").string();
    auto writer = MetricsWriter::open(path);
    const auto app = writer->app("com.example.app", Environment::sandbox);
    constexpr int answers = response_capacity + 100;
    for (int i = 0; i < answers; ++i) writer->count_response(app, "400", "Reason" + std::to_string(i));
    const Snapshot snapshot = read_ok(path);
    EXPECT_EQ(snapshot.responses.size(), response_capacity);
    std::uint64_t total = 0;
    for (const auto& r : snapshot.responses) total += r.count;
    EXPECT_EQ(total, static_cast<std::uint64_t>(answers));
    EXPECT_EQ(snapshot.responses.back().status, "other");
    EXPECT_EQ(snapshot.responses.back().bundle_id, "");
}

TEST(MetricsFile, AHostileFileYieldsBoundedFiguresNeverAnOutOfBoundsRead) {
    TempDir dir;
    const std::string path = (dir.path() / "queue.metrics").string();
    {
        auto writer = MetricsWriter::open(path);
        const auto app = writer->app("com.example.app", Environment::production);
        writer->count_response(app, "200", "");
        writer->count_response(app, "410", "Unregistered");
    }
    tamper(path, [](MetricsFile& f) {
        f.apps = 0xffffffffu;
        f.responses = 0x7fffffffu;
        f.app[0].bundle_id_length = 255;   // beyond its array
        f.app[1].environment = 9;          // not an environment
        f.response[0].status_length = 255;
        f.response[0].reason_length = 255;
        f.response[1].app = 1;             // the app cell that does not check out
        f.response[2].app = 100000;        // beyond the table
    });
    const Snapshot snapshot = read_ok(path);
    EXPECT_LE(snapshot.apps.size(), app_capacity);
    EXPECT_EQ(snapshot.apps[0].bundle_id.size(), max_bundle_id);
    EXPECT_LE(snapshot.responses.size(), response_capacity);
    EXPECT_EQ(snapshot.responses[0].status.size(), max_status);
    EXPECT_EQ(snapshot.responses[0].reason.size(), max_reason);
    for (const auto& r : snapshot.responses) EXPECT_TRUE(r.environment.empty() || r.environment == "production");

    // Not this layout: refused with a reason, not read.
    tamper(path, [](MetricsFile& f) { f.version = 99; });
    std::string error;
    EXPECT_FALSE(read_metrics(path, error));
    EXPECT_NE(error.find("not a metrics file of this version"), std::string::npos) << error;
    ASSERT_EQ(::truncate(path.c_str(), 100), 0);
    EXPECT_FALSE(read_metrics(path, error));
    EXPECT_FALSE(read_metrics((dir.path() / "absent").string(), error));
    EXPECT_NE(error.find("no metrics file yet"), std::string::npos) << error;

    // The next sender replaces what it cannot use with a fresh file.
    auto writer = MetricsWriter::open(path);
    EXPECT_TRUE(read_ok(path).responses.empty());
}

}  // namespace
}  // namespace pushsync::metrics
