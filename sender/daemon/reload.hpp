// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The reading half of a reload (SIGHUP): the configuration file and every key and certificate
// it names are read and checked on a thread of their own, so the loop never waits for the disk
// and a broken file leaves the running configuration in force. Daemon applies the result.
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sender/daemon/daemon.hpp"

namespace pushsync::sender {

// What a reload read: a checked configuration with its routes' credentials loaded, or why not.
struct LoadedConfig {
    std::optional<Config> config;
    std::optional<Routes> routes;
    std::vector<CredentialExpiry> expiries;
    std::string error;  // "FILE:LINE: KEY: PROBLEM"
};

LoadedConfig load_for_reload(const std::string& path, const DaemonOptions& options);

// Keys the sender uses only when it starts (the store and the queue it opened): a reload that
// changes one is refused as a whole. Returns their names, in the config's order.
std::vector<std::string> restart_only_changes(const Config& running, const Config& loaded);

// One read at a time, off the loop.
class ReloadReader {
public:
    // `loaded` runs on the reader thread once a result waits for take(): it wakes the loop.
    ReloadReader(DaemonOptions options, std::function<void()> loaded);
    ~ReloadReader();  // waits for a read under way
    ReloadReader(const ReloadReader&) = delete;
    ReloadReader& operator=(const ReloadReader&) = delete;

    // Reads `path`; while a read is under way, asks for one more after it instead (again()).
    void start(const std::string& path);
    // On the loop, after `loaded`: the result, once; nullopt when none waits.
    std::optional<LoadedConfig> take();
    // Whether a start() came while the last read was under way; asking clears it.
    bool again() noexcept { return std::exchange(again_, false); }
    // Waits for a read under way (its `loaded` may still run).
    void join();

private:
    DaemonOptions options_;
    std::function<void()> loaded_;
    std::thread thread_;
    std::mutex mutex_;
    std::optional<LoadedConfig> result_;  // guarded by mutex_
    bool reading_ = false;
    bool again_ = false;
};

}  // namespace pushsync::sender
