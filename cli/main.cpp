// SPDX-License-Identifier: BSD-2-Clause
// pushsyncctl: parses the command line, loads pushsync.yaml, runs one command, and maps every
// failure to one line on stderr and an exit status (0 done, 1 not found, 2 usage/config, 3 failed).
#include <iostream>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "pushsync_version.hpp"
#include "cli/cli.hpp"
#include "shared/config/config.hpp"
#include "shared/queue/queue.hpp"
#include "shared/store/store.hpp"

namespace {

using namespace pushsync;
using namespace pushsync::cli;

int run(const std::vector<std::string>& argv) {
    std::vector<CommandSpec> commands = store_commands();
    for (CommandSpec& command : queue_commands()) commands.push_back(std::move(command));
    for (CommandSpec& command : shard_commands()) commands.push_back(std::move(command));

    const CommandSpec* seen = nullptr;
    ParsedLine line;
    try {
        line = parse_command_line(argv, commands, &seen);
    } catch (const UsageError& e) {
        std::cerr << "pushsyncctl: " << e.what() << '\n';
        if (seen) std::cerr << "usage: " << usage_line(*seen) << '\n';
        else std::cerr << "usage: pushsyncctl [--config FILE] COMMAND [ARGS] [--json]  (pushsyncctl --help lists them)\n";
        return exit_usage;
    }
    if (line.help) {
        std::cout << (line.command ? command_help(*line.command) : program_help(commands));
        return exit_done;
    }
    if (line.version) {
        std::cout << "pushsyncctl " << version << '\n';
        return exit_done;
    }

    Config config;
    try {
        config = load_config(line.config_path);
    } catch (const ConfigError& e) {
        std::cerr << e.what() << '\n';
        return exit_usage;
    }
    if (!line.store_path.empty()) config.store.path = line.store_path;

    const Invocation invocation{*line.command, config, line.args, line.options, line.json, std::cout, std::cerr};
    try {
        const int status = line.command->run(invocation);
        std::cout.flush();
        return status;
    } catch (const UsageError& e) {
        std::cerr << "pushsyncctl: " << e.what() << '\n' << "usage: " << usage_line(*line.command) << '\n';
        return exit_usage;
    } catch (const NotFound& e) {
        std::cerr << "pushsyncctl: " << e.what() << '\n';
        return exit_not_found;
    } catch (const Failed& e) {
        std::cerr << "pushsyncctl: " << e.what() << '\n';
        return exit_failed;
    } catch (const StoreError& e) {
        std::cerr << "pushsyncctl: " << e.what() << '\n';
        return exit_failed;
    } catch (const QueueError& e) {
        std::cerr << "pushsyncctl: " << e.what() << '\n';
        return exit_failed;
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::exception& e) {
        std::cerr << "pushsyncctl: " << e.what() << '\n';
        return exit_failed;
    }
}
