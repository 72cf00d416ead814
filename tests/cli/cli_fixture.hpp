// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A temp dir with a pushsync.yaml pointing at a store and a queue inside it, and a way to run the
// built pushsyncctl against it.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "shared/store/store.hpp"
#include "tests/support/process.hpp"

namespace pushsync::test {

inline constexpr std::int64_t ms_per_day = 86'400'000;

class CliTest : public ::testing::Test {
protected:
    CliTest();

    std::string config_path() const { return (dir_ / "pushsync.yaml").string(); }
    std::string store_path() const { return (dir_ / "store").string(); }
    std::string queue_path() const { return (dir_ / "queue").string(); }
    // Rewrites pushsync.yaml; `extra` is appended (e.g. a delivery: section).
    void write_config(const std::string& extra = "", std::uint32_t queue_capacity = 8) const;

    // pushsyncctl --config <ours> args…
    CommandResult ctl(std::vector<std::string> args, std::string_view input = {}) const;

    std::unique_ptr<Store> open_store() const;
    // Registers a device at `at_ms` through the Store class.
    static Device add(Store& store, const std::string& token, const std::string& group, const std::string& bundle,
                      Environment env = Environment::production, const std::string& app_version = "",
                      std::int64_t at_ms = 0);

    TempDir dir_;
};

// 16..64 hex digits built from a number, lowercase.
std::string token_of(unsigned n, std::size_t length = 64);
std::vector<std::string> lines_of(const std::string& text);
std::string cli_binary();

}  // namespace pushsync::test
