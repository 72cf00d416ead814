// SPDX-License-Identifier: BSD-2-Clause
// The sender's warnings at start: an APNs key readable by group or others, and apns.ca_file set
// while an endpoint is Apple's. Once each, naming the file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "sender/daemon/startup_warnings.hpp"
#include "tests/support/process.hpp"

namespace pushsync::sender {
namespace {

struct Captured {
    std::vector<std::string> lines;
    Logger log{LogLevel::info, [this](std::string_view line) { lines.emplace_back(line); }};
    std::size_t count(const std::string& needle) const {
        std::size_t n = 0;
        for (const auto& l : lines) n += l.find(needle) != std::string::npos;
        return n;
    }
};

Config with_key(const std::string& key_file) {
    Config config;
    config.apps.resize(2);
    config.apps[0].bundle_id = "com.example.a";
    config.apps[0].auth.key_file = key_file;
    config.apps[1].bundle_id = "com.example.b";
    config.apps[1].auth.key_file = key_file;  // the same key for two apps: one warning
    config.apns.production = "https://push.example.test:8443";
    config.apns.sandbox = "https://push.example.test:8443";
    return config;
}

TEST(StartupWarnings, AKeyFileReadableByGroupOrOthersIsWarnedOnce) {
    test::TempDir dir;
    const std::string key = (dir / "key.p8").string();
    test::write_file(key, "not a real key");
    for (mode_t mode : {mode_t{0600}, mode_t{0400}, mode_t{0640}, mode_t{0604}, mode_t{0644}}) {
        ASSERT_EQ(::chmod(key.c_str(), mode), 0);
        Captured c;
        warn_about_setup(with_key(key), c.log);
        const bool exposed = (mode & 044) != 0;
        EXPECT_EQ(c.count("secrets.key_file_readable"), exposed ? 1u : 0u) << std::oct << mode;
        if (exposed) {
            EXPECT_EQ(c.count("warn secrets.key_file_readable bundle_id=com.example.a key_file=" + key), 1u) << c.lines[0];
            char octal[32];
            std::snprintf(octal, sizeof octal, "mode=%04o", static_cast<unsigned>(mode));
            EXPECT_EQ(c.count(octal), 1u) << c.lines[0];
            // The one mode the docs and conf/ name too.
            EXPECT_EQ(c.count("(owner pushsync, chmod 0400)"), 1u) << c.lines[0];
        }
    }
}

TEST(StartupWarnings, ACaFileWithApplesEndpointsIsWarned) {
    Captured none;
    Config config;
    warn_about_setup(config, none.log);  // Apple's endpoints, no ca_file
    EXPECT_TRUE(none.lines.empty());

    config.apns.ca_file = "/etc/pushsync/test-ca.pem";
    Captured apple;
    warn_about_setup(config, apple.log);
    EXPECT_EQ(apple.count("apns.ca_file_with_apple ca_file=/etc/pushsync/test-ca.pem"), 2u);
    EXPECT_EQ(apple.count("endpoint=https://api.push.apple.com:443"), 1u);
    EXPECT_EQ(apple.count("endpoint=https://api.sandbox.push.apple.com:443"), 1u);

    config.apns.production = "https://API.Push.Apple.com.";
    config.apns.sandbox = "https://127.0.0.1:9443";  // a simulator: what ca_file is for
    Captured mixed;
    warn_about_setup(config, mixed.log);
    EXPECT_EQ(mixed.count("apns.ca_file_with_apple"), 1u);

    config.apns.production = "https://127.0.0.1:9443";
    Captured test_only;
    warn_about_setup(config, test_only.log);
    EXPECT_TRUE(test_only.lines.empty());
}

}  // namespace
}  // namespace pushsync::sender
