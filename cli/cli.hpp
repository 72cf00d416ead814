// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What every pushsyncctl command sees: its parsed arguments, the configuration and the streams,
// and the exit codes it may return.
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "shared/config/config.hpp"
#include "shared/store/store.hpp"

namespace pushsync::cli {

// Exit codes (documented in `pushsyncctl --help`).
enum Exit : int {
    exit_done = 0,
    exit_not_found = 1,
    exit_usage = 2,   // bad command line or broken pushsync.yaml
    exit_failed = 3,  // the store or queue cannot be opened, a bad import file, check found problems,
                      // reset refused
};

// A problem with the command line; main prints it with the command's usage and exits 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Something named on the command line does not exist; main prints it and exits 1.
class NotFound : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Refused or failed at run time; main prints it and exits 3.
class Failed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct OptionSpec {
    std::string name;        // "--limit"
    std::string value_name;  // "N"; empty: a flag
    std::string help;
};

struct Invocation;

struct CommandSpec {
    std::vector<std::string> words;  // {"queue", "peek"}
    std::string arguments;           // "GROUP", "[N]"
    std::string summary;             // one line
    std::string details;             // more lines for --help, may be empty
    std::vector<OptionSpec> options;
    std::size_t min_args = 0;
    std::size_t max_args = 0;
    std::function<int(const Invocation&)> run;
};

struct Invocation {
    const CommandSpec& command;
    const Config& config;
    std::vector<std::string> args;                   // positional, after the command words
    std::map<std::string, std::string> options;      // "--limit" -> "10"; flags -> ""
    bool json = false;
    std::ostream& out;
    std::ostream& err;

    bool has(const std::string& option) const { return options.count(option) != 0; }
    std::optional<std::string> option(const std::string& name) const;
};

// The configured store (or --store's); a read-only open of a folder without data.mdb throws Failed.
std::unique_ptr<Store> open_store(const Config& config, bool read_only);

std::vector<CommandSpec> store_commands();
std::vector<CommandSpec> queue_commands();
std::vector<CommandSpec> shard_commands();

}  // namespace pushsync::cli
