// SPDX-License-Identifier: BSD-2-Clause
// pushsyncctl's command line: --help everywhere, usage errors and configuration errors (exit 2).
#include "tests/cli/cli_fixture.hpp"

namespace pushsync::test {
namespace {

const std::vector<std::vector<std::string>> all_commands = {
    {"groups"}, {"devices"}, {"device"}, {"remove-device"}, {"remove-group"}, {"stats"}, {"gc"},
    {"export"}, {"import"},  {"check"},  {"queue"},         {"queue", "peek"}, {"queue", "reset"},
    {"check", "credentials"}};

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

TEST(CliUsage, ProgramHelpListsEveryCommandWithoutReadingTheConfig) {
    const auto r = run({cli_binary(), "--config", "/nonexistent/pushsync.yaml", "--help"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("usage: pushsyncctl [--config FILE] COMMAND", 0), 0u) << r.out;
    for (const auto& words : all_commands) EXPECT_NE(r.out.find("\n  " + joined(words)), std::string::npos) << joined(words);
    EXPECT_NE(r.out.find("exit status: 0 done, 1 not found, 2 usage or configuration error"), std::string::npos);
    EXPECT_EQ(run({cli_binary(), "-h"}).exit_code, 0);
}

TEST(CliUsage, EveryCommandHasHelp) {
    for (const auto& words : all_commands) {
        std::vector<std::string> argv{cli_binary()};
        argv.insert(argv.end(), words.begin(), words.end());
        argv.push_back("--help");
        const auto r = run(argv);
        EXPECT_EQ(r.exit_code, 0) << joined(words) << r.err;
        EXPECT_EQ(r.out.rfind("usage: pushsyncctl [--config FILE] " + joined(words), 0), 0u) << r.out;
        EXPECT_NE(r.out.find("--json"), std::string::npos) << r.out;
    }
    const auto gc = run({cli_binary(), "gc", "--help"});
    EXPECT_NE(gc.out.find("--older-than DAYS"), std::string::npos);
    EXPECT_NE(gc.out.find("--dry-run"), std::string::npos);
    EXPECT_NE(run({cli_binary(), "queue", "reset", "--help"}).out.find("--force"), std::string::npos);
}

TEST_F(CliTest, UsageErrorsExitTwo) {
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{}, "pushsyncctl: no command given"},
        {{"frobnicate"}, "pushsyncctl: unknown command \"frobnicate\""},
        {{"groups", "--verbose"}, "pushsyncctl: groups: unknown option --verbose"},
        {{"groups", "extra"}, "pushsyncctl: groups: unexpected argument \"extra\""},
        {{"devices"}, "pushsyncctl: devices: missing GROUP"},
        {{"device"}, "pushsyncctl: device: missing TOKEN"},
        {{"import"}, "pushsyncctl: import: missing FILE"},
        {{"gc", "--older-than"}, "pushsyncctl: --older-than needs a value"},
        {{"gc", "--older-than", "ten"}, "pushsyncctl: --older-than expects a whole number, got \"ten\""},
        {{"stats", "--dry-run"}, "pushsyncctl: stats: unknown option --dry-run"},
        {{"queue", "reset", "--dry-run"}, "pushsyncctl: queue reset: unknown option --dry-run"},
        {{"queue", "peek", "-3"}, "pushsyncctl: queue peek: unknown option -3"},
        {{"check", "--json=yes"}, "pushsyncctl: --json takes no value"},
    };
    for (const Case& c : cases) {
        const auto r = ctl(c.args);
        EXPECT_EQ(r.exit_code, 2) << joined(c.args);
        EXPECT_EQ(r.out, "");
        const auto lines = lines_of(r.err);
        ASSERT_EQ(lines.size(), 2u) << r.err;
        EXPECT_EQ(lines[0], c.message);
        EXPECT_EQ(lines[1].rfind("usage: pushsyncctl [--config FILE] ", 0), 0u) << lines[1];
    }
}

TEST_F(CliTest, ConfigOptionAcceptedAnywhere) {
    const auto r = run({cli_binary(), "queue", "reset", "--config=" + config_path()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(run({cli_binary(), "queue", "--config", config_path(), "--json"}).exit_code, 0);
}

TEST_F(CliTest, MissingConfigFileExitsTwoWithOneLine) {
    const std::string missing = (dir_ / "missing.yaml").string();
    for (const std::vector<std::string>& args : {std::vector<std::string>{"groups"}, {"queue"}, {"check", "--json"}}) {
        std::vector<std::string> argv{cli_binary(), "--config", missing};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = run(argv);
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_EQ(r.out, "");
        EXPECT_EQ(r.err, missing + ": cannot read (No such file or directory)\n");
    }
}

TEST_F(CliTest, BrokenConfigExitsTwoWithTheLine) {
    write_config("sender:\n  log_levl: debug\n");
    auto r = ctl({"stats"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, config_path() + ":13: sender.log_levl: unknown key (known here: log_level)\n");

    write_file(config_path(), "store:\n  path: [unclosed\nqueue:\n");
    r = ctl({"queue"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
    EXPECT_EQ(r.err.rfind(config_path() + ":", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("YAML syntax error"), std::string::npos) << r.err;
}

TEST(CliUsage, DefaultConfigPath) {
    if (std::filesystem::exists(default_config_path)) GTEST_SKIP() << "this machine has " << default_config_path;
    const auto r = run({cli_binary(), "stats"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, std::string(default_config_path) + ": cannot read (No such file or directory)\n");
}

}  // namespace
}  // namespace pushsync::test
