// SPDX-License-Identifier: BSD-2-Clause
// pushsyncctl: parses the command line, loads pushsync.yaml, runs one command, and maps every
// failure to one line on stderr and an exit status (0 done, 1 not found, 2 usage/config, 3 failed).
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
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

// Run as root, pushsyncctl becomes the owner of the store folder (the sender's user, `pushsync`)
// before it opens anything in it or in the queue's folder: members of group pushsync can plant
// names there, and root would open whatever they point at. A folder owned by root needs no
// change; a store folder not made yet is judged by the nearest folder above it.
// Throws Failed when the change cannot be made.
void drop_to_store_owner(const std::string& store_path) {
    if (::geteuid() != 0) return;
    std::filesystem::path path = std::filesystem::absolute(store_path);
    struct stat st {};
    while (::stat(path.c_str(), &st) != 0) {
        if (!path.has_parent_path() || path.parent_path() == path) return;
        path = path.parent_path();
    }
    if (st.st_uid == 0) return;
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buffer(16384);
    ::getpwuid_r(st.st_uid, &pw, buffer.data(), buffer.size(), &found);
    const gid_t gid = found ? pw.pw_gid : st.st_gid;
    const std::string who = found ? std::string(pw.pw_name) : "uid " + std::to_string(st.st_uid);
    auto fail = [&](const char* call) {
        throw Failed("running as root, cannot become " + who + ", the owner of " + path.string() + " (" + call + ": " +
                     std::strerror(errno) + "); run it as that user: sudo -u " + who + " pushsyncctl …");
    };
    // Groups first: once the user is changed, they can no longer be.
    if (found ? ::initgroups(pw.pw_name, gid) != 0 : ::setgroups(1, &st.st_gid) != 0) fail("setgroups");
    if (::setgid(gid) != 0) fail("setgid");
    if (::setuid(st.st_uid) != 0) fail("setuid");
    if (::setuid(0) == 0) fail("setuid (root could be regained)");
}

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
    // What it writes is the store owner's and nobody else's (each file also gets its mode).
    ::umask(077);
    try {
        drop_to_store_owner(config.store.path);
    } catch (const Failed& e) {
        std::cerr << "pushsyncctl: " << e.what() << '\n';
        return exit_failed;
    }

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
