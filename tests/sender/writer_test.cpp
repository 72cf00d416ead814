// SPDX-License-Identifier: BSD-2-Clause
// The store writer thread and the log line format.
#include <gtest/gtest.h>

#include "sender/logger.hpp"
#include "sender/pipeline.hpp"
#include "sender/dispatch/store_writer.hpp"
#include "tests/sender/fakes.hpp"
#include "tests/sender/harness.hpp"

namespace pushsync::sender {
namespace {

using pushsync::test::wait_until;

TEST(StoreWriter, WritesTailsAndRemovalsInOrderAndReportsTheGeneration) {
    test::Harness h;
    h.store->outbox_put(std::vector<OutboxEntry>{{1, "g", "t", "", 0}, {2, "g", "t", "", 0}});
    Logger log{LogLevel::error, [](std::string_view) {}};
    StoreWriter writer(*h.store, log);
    writer.submit(1, {{test::token_a, "T1"}}, {1});
    writer.submit(2, {{test::token_a, "T2"}}, {2});
    ASSERT_TRUE(wait_until([&] { return writer.written() == 2; }));
    EXPECT_EQ(h.store->last_sent_tail(test::token_a), "T2");
    EXPECT_TRUE(h.store->outbox_load(0).empty());
}

TEST(StoreWriter, StopWritesWhatIsPending) {
    test::Harness h;
    Logger log{LogLevel::error, [](std::string_view) {}};
    {
        StoreWriter writer(*h.store, log);
        writer.submit(7, {{test::token_b, "T9"}}, {});
        writer.stop();
        EXPECT_EQ(writer.written(), 7u);
    }
    EXPECT_EQ(h.store->last_sent_tail(test::token_b), "T9");
}

TEST(PipelineWithWriter, DedupeRemembersTailsUntilTheWriterHasThem) {
    test::Harness h;
    h.add(test::token_a, "g");
    test::FakeClock clock;
    test::FakeRandom random;
    TimerQueue timers{clock};
    Logger log{LogLevel::error, [](std::string_view) {}};
    test::FakeTransports transports;
    StoreWriter writer(*h.store, log);
    Pipeline pipeline(h.config, Pipeline::Deps{*h.store, timers, random, log, {}, transports.factory(), &writer});
    std::vector<OutboxEntry> first{{1, "g", "T1", "", 0}};
    h.store->outbox_put(first);
    pipeline.accept(first);
    transports.all.at(0)->answer(200);
    pipeline.flush();
    // The same tail again, whether or not the writer got to it yet: not sent twice.
    std::vector<OutboxEntry> again{{2, "g", "T1", "", 0}};
    h.store->outbox_put(again);
    pipeline.accept(again);
    EXPECT_EQ(transports.all.at(0)->sent, 1u);
    pipeline.flush();
    ASSERT_TRUE(wait_until([&] {
        pipeline.flush();
        return h.store->outbox_load(0).empty();
    }));
    EXPECT_EQ(h.store->last_sent_tail(test::token_a), "T1");
}

TEST(Logger, OneLinePerEventWithLevelEventAndFieldsFilteredByLevel) {
    std::vector<std::string> lines;
    Logger log{LogLevel::info, [&](std::string_view line) { lines.emplace_back(line); }};
    log.info("push.sent", "group=g token=" + std::string(token_prefix(test::token_a)) + " apns-id=x");
    log.debug("hidden");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("Z info push.sent group=g token=aaaaaaaa apns-id=x"), std::string::npos) << lines[0];
    EXPECT_EQ(lines[0].find('\n'), std::string::npos);
}

}  // namespace
}  // namespace pushsync::sender
