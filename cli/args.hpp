// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The command line of pushsyncctl: global options (--config, --json, --help) anywhere, then the
// command's words, its arguments and its options.
#include <optional>
#include <string>
#include <vector>

#include "cli/cli.hpp"

namespace pushsync::cli {

struct ParsedLine {
    std::string config_path = default_config_path;
    std::string store_path;  // --store DIR: instead of store.path (empty: none given)
    bool json = false;
    bool help = false;
    bool version = false;
    const CommandSpec* command = nullptr;  // null: none given (or --help alone)
    std::vector<std::string> args;
    std::map<std::string, std::string> options;
};

// Throws UsageError; `command` is set as soon as it is known, so the error can show its usage.
ParsedLine parse_command_line(const std::vector<std::string>& argv, const std::vector<CommandSpec>& commands,
                              const CommandSpec** command_seen);

std::string usage_line(const CommandSpec& command);
std::string command_help(const CommandSpec& command);
std::string program_help(const std::vector<CommandSpec>& commands);

// A whole non-negative number, digits only; throws UsageError naming `what`.
std::uint64_t parse_count(const std::string& text, const std::string& what);

}  // namespace pushsync::cli
