// SPDX-License-Identifier: BSD-2-Clause
// Must show 3 of issue 25: the store and queue folders are 2770, group pushsync, so nginx's worker
// user can plant names in them. A symlink or a hard link planted as data.mdb, lock.mdb, the queue
// file or the metrics file, pointing at a file outside (the canary), is refused by every opener —
// the Store, the queue, the metrics reader and writer, and pushsyncctl's `check`, `stats` and
// `queue` — with one line naming the file, what is wrong and the command that fixes it, and the
// canary is byte for byte what it was.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "shared/metrics/file.hpp"
#include "shared/queue/queue.hpp"
#include "tests/cli/cli_fixture.hpp"

namespace pushsync::test {
namespace {

namespace fs = std::filesystem;

// Not a store, a queue or a metrics file: what a planter would point at (/etc/shadow, say).
const std::string canary_bytes = "root:$6$secret-hash-the-planter-wants-written:19000:0:99999:7:::\n";

enum class Plant { symlink, hard_link };

class PlantedLinks : public CliTest, public ::testing::WithParamInterface<Plant> {
protected:
    std::string canary() const { return (dir_ / "outside" / "shadow").string(); }

    void SetUp() override {
        fs::create_directories(dir_ / "outside");
        write_file(canary(), canary_bytes);
        // A real store and queue first: the planted name replaces one of their files.
        open_store();
        Queue::open(queue_path(), 8);
    }

    // Replaces `victim` with a link to the canary.
    void plant(const std::string& victim) {
        fs::remove(victim);
        if (GetParam() == Plant::symlink) fs::create_symlink(canary(), victim);
        else fs::create_hard_link(canary(), victim);
    }

    // The clear line: the file, what is wrong, and (for a symlink) the command that removes it.
    void expect_refusal(const std::string& victim, const std::string& message) const {
        SCOPED_TRACE(message);
        EXPECT_NE(message.find(victim), std::string::npos);
        if (GetParam() == Plant::symlink) {
            EXPECT_NE(message.find("a symbolic link (to " + canary() + ")"), std::string::npos);
            EXPECT_NE(message.find("rm " + victim), std::string::npos);
        } else {
            EXPECT_NE(message.find("has 2 hard links"), std::string::npos);
            EXPECT_NE(message.find("find / -xdev -samefile " + victim), std::string::npos);
        }
        const auto body = message.substr(0, message.find_last_not_of('\n') + 1);
        EXPECT_EQ(body.find('\n'), std::string::npos) << "not one line";
    }

    void expect_canary_untouched() const { EXPECT_EQ(read_file(canary()), canary_bytes); }

    // `open` must throw; its what() is the clear line.
    void expect_throws(const std::string& victim, const std::function<void()>& open) const {
        try {
            open();
            ADD_FAILURE() << "opened " << victim;
        } catch (const std::exception& e) {
            expect_refusal(victim, e.what());
        }
        expect_canary_untouched();
    }

    void expect_ctl_refuses(const std::string& victim, std::vector<std::string> args) const {
        const auto r = ctl(args);
        SCOPED_TRACE(args.front());
        EXPECT_NE(r.exit_code, 0) << r.out;
        expect_refusal(victim, r.err);
        expect_canary_untouched();
    }

    void expect_store_refuses(const std::string& victim) {
        plant(victim);
        expect_throws(victim, [&] { open_store(); });
        expect_throws(victim, [&] {
            StoreOptions options;
            options.path = store_path();
            options.read_only = true;
            Store store(options);
        });
        expect_ctl_refuses(victim, {"check"});
        expect_ctl_refuses(victim, {"stats"});
        expect_ctl_refuses(victim, {"groups"});
    }
};

TEST_P(PlantedLinks, DataFileIsRefused) { expect_store_refuses(store_path() + "/data.mdb"); }

TEST_P(PlantedLinks, LockFileIsRefused) { expect_store_refuses(store_path() + "/lock.mdb"); }

TEST_P(PlantedLinks, QueueFileIsRefused) {
    const std::string victim = queue_path();
    plant(victim);
    expect_throws(victim, [&] { Queue::open(victim, 8); });
    expect_throws(victim, [&] { Queue::open_existing(victim); });
    expect_ctl_refuses(victim, {"queue"});
    expect_ctl_refuses(victim, {"queue", "peek"});
    // reset is the admin's way out: it replaces the name without writing through it.
    const auto r = ctl({"queue", "reset", "--force"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    expect_canary_untouched();
    EXPECT_FALSE(fs::is_symlink(victim));
    EXPECT_NO_THROW(Queue::open_existing(victim));
}

TEST_P(PlantedLinks, MetricsFileIsRefused) {
    const std::string victim = metrics::path_beside_queue(queue_path());
    metrics::MetricsWriter::open(victim);
    plant(victim);
    expect_throws(victim, [&] { metrics::MetricsWriter::open(victim); });
    std::string error;
    EXPECT_FALSE(metrics::read_metrics(victim, error));
    expect_refusal(victim, error);
    EXPECT_FALSE(metrics::read_hold_figures(victim, error));
    expect_refusal(victim, error);
    expect_canary_untouched();
}

INSTANTIATE_TEST_SUITE_P(Plants, PlantedLinks, ::testing::Values(Plant::symlink, Plant::hard_link),
                         [](const auto& info) { return info.param == Plant::symlink ? "Symlink" : "HardLink"; });

}  // namespace
}  // namespace pushsync::test
