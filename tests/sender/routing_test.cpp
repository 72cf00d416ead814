// SPDX-License-Identifier: BSD-2-Clause
// Routes (connection sharing), fan-out over a real store, secret-file errors, dedupe, ledger.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "sender/fanout/dedupe.hpp"
#include "sender/fanout/fanout.hpp"
#include "sender/intake/ledger.hpp"
#include "sender/fanout/routes.hpp"
#include "sender/daemon/secrets.hpp"
#include "tests/sender/harness.hpp"

namespace pushsync::sender {
namespace {

using test::Harness;

// An Android app beside its iOS namesake: its own connection to fcm.endpoint, one per service
// account file and priority, found under either environment's name (FCM has none).
TEST(Routes, FcmAppsGetOneConnectionPerServiceAccountAndPriority) {
    Config config = parse_config(R"(store: {path: /s}
queue: {path: /q}
delivery: {expiration_s: 600}
apps:
  - bundle_id: com.example.app
    auth: {type: token, team_id: T, key_id: K, key_file: /k.p8}
  - bundle_id: com.example.app
    platform: fcm
    auth: {type: service_account, file: /a.json}
  - bundle_id: com.example.two
    platform: fcm
    auth: {type: service_account, file: /a.json}
  - bundle_id: com.example.quiet
    platform: fcm
    android_priority: normal
    auth: {type: service_account, file: /a.json}
fcm:
  endpoint: https://127.0.0.1:9
  token_uri: https://127.0.0.1:9/token
  max_streams: 7
)", "pushsync.yaml");
    Routes routes(config);
    const auto ios = routes.find("com.example.app", Environment::production);
    const auto android = routes.find(Platform::fcm, "com.example.app", Environment::production);
    ASSERT_TRUE(ios && android);
    EXPECT_NE(*ios, *android);
    EXPECT_EQ(routes.connections()[*ios].platform, Platform::apns);
    const ConnectionConfig& fcm = routes.connections()[*android];
    EXPECT_EQ(fcm.platform, Platform::fcm);
    EXPECT_EQ(fcm.url, "https://127.0.0.1:9");
    EXPECT_EQ(fcm.token_uri, "https://127.0.0.1:9/token");
    EXPECT_EQ(fcm.max_streams, 7u);
    EXPECT_EQ(fcm.expiration_s, 600u);
    EXPECT_EQ(fcm.auth.file, "/a.json");
    EXPECT_EQ(fcm.android_priority, AndroidPriority::high);
    EXPECT_EQ(routes.find(Platform::fcm, "com.example.two", Environment::production), android);
    EXPECT_EQ(routes.apps_of(*android), "com.example.app,com.example.two");
    const auto quiet = routes.find(Platform::fcm, "com.example.quiet", Environment::sandbox);
    ASSERT_TRUE(quiet);
    EXPECT_NE(*quiet, *android);
    EXPECT_EQ(routes.connections()[*quiet].android_priority, AndroidPriority::normal);
    EXPECT_FALSE(routes.find("com.example.two", Environment::production));  // no iOS app of that name
    EXPECT_FALSE(same_connection(routes.connections()[*quiet], fcm));
}

TEST(Routes, AppsWithTheSameCredentialsAndEnvironmentShareAConnection) {
    Harness h;
    Routes routes(h.config);
    // app/production + other/production share; app/sandbox; legacy/production; legacy/sandbox.
    ASSERT_EQ(routes.connections().size(), 4u);
    const auto app_prod = routes.find("com.example.app", Environment::production);
    const auto other_prod = routes.find("com.example.other", Environment::production);
    ASSERT_TRUE(app_prod && other_prod);
    EXPECT_EQ(*app_prod, *other_prod);
    EXPECT_EQ(routes.apps_of(*app_prod), "com.example.app,com.example.other");
    const auto app_sandbox = routes.find("com.example.app", Environment::sandbox);
    ASSERT_TRUE(app_sandbox);
    EXPECT_NE(*app_sandbox, *app_prod);
    EXPECT_EQ(routes.connections()[*app_sandbox].url, "https://127.0.0.1:2");
    EXPECT_EQ(routes.connections()[*app_sandbox].environment, Environment::sandbox);
    EXPECT_EQ(routes.connections()[*app_prod].url, "https://127.0.0.1:1");
    EXPECT_EQ(routes.connections()[*app_prod].auth.key_id, "ABC123DEFG");
    const auto legacy = routes.find("com.example.legacy", Environment::production);
    ASSERT_TRUE(legacy);
    EXPECT_NE(*legacy, *app_prod);
    EXPECT_EQ(routes.connections()[*legacy].auth.type, AuthType::certificate);
    EXPECT_FALSE(routes.find("com.example.other", Environment::sandbox));  // environment not allowed
    EXPECT_FALSE(routes.find("com.example.gone", Environment::production));
}

TEST(FanOut, EveryDeviceButTheOriginWithUnroutableDevicesApart) {
    Harness h;
    h.add(test::token_a, "g");
    h.add(test::token_b, "g", "com.example.other");
    h.add(test::token_c, "g", "com.example.other", Environment::sandbox);  // not allowed any more
    h.add(test::token_d, "g", "com.example.app", Environment::sandbox);
    h.add("eeeeeeeeeeeeeeee", "other-group");
    Routes routes(h.config);
    FanOut fanout(*h.store, routes);
    Round round;
    round.group = "g";
    round.tail = "T1";
    round.origin = test::token_a;
    const FanOutResult result = fanout.expand(round);
    EXPECT_TRUE(result.origin_skipped);
    ASSERT_EQ(result.targets.size(), 2u);
    EXPECT_EQ(result.targets[0].token, test::token_b);
    EXPECT_EQ(result.targets[0].bundle_id, "com.example.other");
    EXPECT_EQ(result.targets[0].connection, *routes.find("com.example.app", Environment::production));
    EXPECT_EQ(result.targets[1].token, test::token_d);
    EXPECT_EQ(result.targets[1].environment, Environment::sandbox);
    ASSERT_EQ(result.unroutable.size(), 1u);
    EXPECT_EQ(result.unroutable[0].token, test::token_c);

    round.origin.clear();
    EXPECT_EQ(fanout.expand(round).targets.size(), 3u);
    round.group = "nobody";
    EXPECT_TRUE(fanout.expand(round).targets.empty());
}

TEST(FanOut, PagesOfAGroupTogetherHoldEveryTargetOnce) {
    Harness h;
    for (const char* token : {test::token_a, test::token_b, test::token_c, test::token_d}) h.add(token, "g");
    Routes routes(h.config);
    FanOut fanout(*h.store, routes);
    Round round;
    round.group = "g";
    round.tail = "T1";
    round.origin = test::token_b;
    FanOutResult first = fanout.expand(round, "", 2);
    ASSERT_TRUE(first.resume_after.has_value());
    ASSERT_EQ(first.targets.size(), 1u);  // the origin took a place in the page
    EXPECT_TRUE(first.origin_skipped);
    FanOutResult second = fanout.expand(round, *first.resume_after, 2);
    EXPECT_FALSE(second.resume_after.has_value());
    std::vector<std::string> tokens{first.targets[0].token};
    for (const Target& target : second.targets) tokens.push_back(target.token);
    EXPECT_EQ(tokens, (std::vector<std::string>{test::token_a, test::token_c, test::token_d}));
}

TEST(Secrets, AnUnreadableKeyFileIsAOneLineConfigErrorWithFileAndLine) {
    Harness h;
    pushsync::test::write_file(h.dir / "AuthKey.p8", "-----BEGIN PRIVATE KEY-----\n");
    pushsync::test::write_file(h.dir / "legacy.pem", "cert");
    // legacy.key is missing.
    try {
        check_secret_files(h.config);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        const std::string expected = h.config.file + ":" + std::to_string(h.config.apps[2].auth.key_file_line) +
                                     ": apps[2].auth.key_file: cannot read " + (h.dir / "legacy.key").string() +
                                     " (No such file or directory)";
        EXPECT_EQ(e.what(), expected);
        EXPECT_GT(h.config.apps[2].auth.key_file_line, 0);
    }
    pushsync::test::write_file(h.dir / "legacy.key", "key");
    EXPECT_NO_THROW(check_secret_files(h.config));
    std::filesystem::remove(h.dir / "legacy.pem");
    try {
        check_secret_files(h.config);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(":" + std::to_string(h.config.apps[2].auth.cert_file_line) +
                                             ": apps[2].auth.cert_file: cannot read "),
                  std::string::npos)
            << e.what();
    }
}

TEST(Dedupe, TheSameTailNeverTwiceToADeviceAcrossFlushes) {
    Harness h;
    Dedupe dedupe(*h.store);
    EXPECT_TRUE(dedupe.should_send(test::token_a, "T1"));
    dedupe.record(test::token_a, "T1");
    EXPECT_FALSE(dedupe.should_send(test::token_a, "T1"));  // before the batch is written
    EXPECT_TRUE(dedupe.should_send(test::token_a, "T2"));
    EXPECT_TRUE(dedupe.should_send(test::token_b, "T1"));
    dedupe.flush();
    EXPECT_EQ(h.store->last_sent_tail(test::token_a), "T1");
    Dedupe fresh(*h.store);  // a restarted sender
    EXPECT_FALSE(fresh.should_send(test::token_a, "T1"));
}

TEST(Ledger, EntriesLeaveTheOutboxPerGroupInQueueOrderOnly) {
    Harness h;
    std::vector<OutboxEntry> entries{{1, "g", "t1", "", 1}, {2, "g", "t2", "", 2}, {3, "h", "t3", "", 3}};
    h.store->outbox_put(entries);
    Ledger ledger(*h.store);
    for (const auto& e : entries) EXPECT_TRUE(ledger.admit(e));
    EXPECT_FALSE(ledger.admit(entries[0]));  // redelivered by the queue: already live

    Round r1{0, "g", "t1", "", {1}, 1}, r2{0, "g", "t2", "", {2}, 2}, r3{0, "h", "t3", "", {3}, 3};
    ledger.open(r1);
    ledger.open(r2);
    ledger.open(r3);
    ledger.add_pushes(r1.id, 2);
    ledger.close_fanout(r1.id);
    ledger.add_pushes(r2.id, 1);
    ledger.close_fanout(r2.id);
    ledger.close_fanout(r3.id);  // no devices: finished at once
    ledger.push_finished(r2.id);  // the newer round of g finishes first...
    ledger.flush();
    auto ids = [&] {
        std::vector<std::uint64_t> out;
        for (const auto& e : h.store->outbox_load(0)) out.push_back(e.id);
        return out;
    };
    EXPECT_EQ(ids(), (std::vector<std::uint64_t>{1, 2}));  // ...but waits for the older one
    ledger.push_finished(r1.id);
    ledger.flush();
    EXPECT_EQ(ids(), (std::vector<std::uint64_t>{1, 2}));
    ledger.push_finished(r1.id);
    ledger.flush();
    EXPECT_TRUE(ids().empty());
    EXPECT_EQ(ledger.open_rounds(), 0u);
    EXPECT_EQ(ledger.live_entries(), 0u);
    EXPECT_EQ(ledger.finished_rounds(), 3u);
}

TEST(Ledger, AFinishedEntryLeavesTheOutboxOnlyOnceTheConsumerHasStoredIt) {
    Harness h;
    Ledger ledger(*h.store);
    const OutboxEntry early{7, "g", "t7", "", 1}, late{8, "h", "t8", "", 2};
    ASSERT_TRUE(ledger.admit(early, false));
    ASSERT_TRUE(ledger.admit(late, false));
    Round r7{0, "g", "t7", "", {7}, 1}, r8{0, "h", "t8", "", {8}, 2};
    ledger.open(r7);
    ledger.open(r8);
    ledger.close_fanout(r7.id);  // no devices: finished before the outbox write even began
    ledger.close_fanout(r8.id);
    // The consumer had begun writing both: it could forget neither.
    ledger.forget_unstored(ledger.take_finished_unstored(),
                           [](std::vector<std::uint64_t>) { return std::vector<std::uint64_t>{}; });
    EXPECT_TRUE(ledger.take_removals().empty());  // removing now would race the consumer's put
    ledger.stored_below(8);                        // entry 7 is in the outbox, 8 not yet
    EXPECT_EQ(ledger.take_removals(), std::vector<std::uint64_t>{7});
    EXPECT_EQ(ledger.unstored(), 1u);
    h.store->outbox_put(std::vector<OutboxEntry>{late});
    ledger.stored_below(9);
    ledger.flush();
    EXPECT_TRUE(h.store->outbox_load(0).empty());
    EXPECT_EQ(ledger.live_entries(), 0u);
}

TEST(Ledger, AnEntryFinishedBeforeTheConsumerStoredItIsForgottenAndNeverEntersOrLeavesTheOutbox) {
    Harness h;
    Ledger ledger(*h.store);
    const OutboxEntry first{7, "g", "t7", "", 1}, second{8, "g", "t8", "", 2};
    ASSERT_TRUE(ledger.admit(first, false));
    ASSERT_TRUE(ledger.admit(second, false));
    Round r7{0, "g", "t7", "", {7}, 1}, r8{0, "g", "t8", "", {8}, 2};
    ledger.open(r7);
    ledger.open(r8);
    std::vector<std::uint64_t> offered;
    auto forget_all = [&](std::vector<std::uint64_t> ids) {
        offered.insert(offered.end(), ids.begin(), ids.end());
        return ids;
    };
    ledger.close_fanout(r8.id);
    EXPECT_TRUE(ledger.take_finished_unstored().empty());  // a group's entries are freed in queue order: 8 waits for 7
    ledger.close_fanout(r7.id);
    ledger.forget_unstored(ledger.take_finished_unstored(), forget_all);
    EXPECT_EQ(offered, (std::vector<std::uint64_t>{7, 8}));
    EXPECT_TRUE(ledger.take_removals().empty());
    EXPECT_EQ(ledger.live_entries(), 0u);
    EXPECT_EQ(ledger.unstored(), 0u);
}

// After a restart the outbox is recovered, and the queue redelivers what the killed sender had
// not committed: the consumer writes those entries again. The recovered round may finish first;
// its removal must then wait for that put, or the put brings the entry back for good (seen in the
// soak: the outbox never drained after sender_kill under load).
TEST(Ledger, ARecoveredEntryThatTheConsumerWritesAgainLeavesTheOutboxOnlyAfterThatWrite) {
    Harness h;
    const OutboxEntry entry{5, "g", "t5", "", 1};
    h.store->outbox_put(std::vector<OutboxEntry>{entry});
    Ledger ledger(*h.store);
    ASSERT_TRUE(ledger.admit(entry));          // recovered from the outbox
    EXPECT_FALSE(ledger.admit(entry, false));  // redelivered by the queue, being written again
    Round round{0, "g", "t5", "", {5}, 1};
    ledger.open(round);
    ledger.close_fanout(round.id);
    std::vector<std::uint64_t> offered;
    ledger.forget_unstored(ledger.take_finished_unstored(), [&](std::vector<std::uint64_t> ids) {
        offered = ids;
        return ids;
    });
    EXPECT_TRUE(offered.empty());  // the outbox holds it from the earlier run: never forgotten
    ledger.flush();
    EXPECT_EQ(h.store->outbox_load(0).size(), 1u);  // not before the consumer's put
    h.store->outbox_put(std::vector<OutboxEntry>{entry});
    ledger.stored_below(6);
    ledger.flush();
    EXPECT_TRUE(h.store->outbox_load(0).empty());
    EXPECT_EQ(ledger.live_entries(), 0u);
    EXPECT_EQ(ledger.unstored(), 0u);
}

TEST(Ledger, ARoundWhosePushesWaitForTheirBudgetKeepsItsEntriesThroughTheOutbox) {
    Harness h;
    Ledger ledger(*h.store);
    const OutboxEntry entry{7, "g", "t7", "", 1};
    ASSERT_TRUE(ledger.admit(entry, false));
    Round round{0, "g", "t7", "", {7}, 1};
    ledger.open(round);
    ledger.keep_stored(round.id);  // its held pushes' writes must be stored before the notify may go
    ledger.close_fanout(round.id);
    EXPECT_TRUE(ledger.take_finished_unstored().empty());
    EXPECT_TRUE(ledger.take_removals().empty());  // not before the consumer has stored it
    ledger.stored_below(8);
    EXPECT_EQ(ledger.take_removals(), std::vector<std::uint64_t>{7});
}

}  // namespace
}  // namespace pushsync::sender
