// SPDX-License-Identifier: BSD-2-Clause
#include "sender/daemon/reload.hpp"

#include <utility>

#include "sender/daemon/secrets.hpp"

namespace pushsync::sender {

LoadedConfig load_for_reload(const std::string& path, const DaemonOptions& options) {
    LoadedConfig loaded;
    try {
        Config config = load_config(path);
        check_secret_files(config);
        Routes routes(config);
        if (options.load_credentials) loaded.expiries = options.load_credentials(config, routes);
        loaded.config = std::move(config);
        loaded.routes = std::move(routes);
    } catch (const ConfigError& e) {
        loaded.error = e.what();
    } catch (const std::exception& e) {
        loaded.error = path + ": " + e.what();
    }
    return loaded;
}

std::vector<std::string> restart_only_changes(const Config& running, const Config& loaded) {
    std::vector<std::string> keys;
    const auto check = [&](const char* key, bool same) {
        if (!same) keys.emplace_back(key);
    };
    check("store.path", running.store.path == loaded.store.path);
    check("store.map_size", running.store.map_size == loaded.store.map_size);
    check("store.sync", running.store.sync == loaded.store.sync);
    check("store.sync_interval_ms", running.store.sync_interval_ms == loaded.store.sync_interval_ms);
    check("queue.path", running.queue.path == loaded.queue.path);
    check("queue.capacity", running.queue.capacity == loaded.queue.capacity);
    return keys;
}

ReloadReader::ReloadReader(DaemonOptions options, std::function<void()> loaded)
    : options_(std::move(options)), loaded_(std::move(loaded)) {}

ReloadReader::~ReloadReader() { join(); }

void ReloadReader::start(const std::string& path) {
    if (reading_) {
        again_ = true;
        return;
    }
    reading_ = true;
    join();
    thread_ = std::thread([this, path] {
        LoadedConfig loaded = load_for_reload(path, options_);
        {
            std::lock_guard lock(mutex_);
            result_ = std::move(loaded);
        }
        loaded_();
    });
}

std::optional<LoadedConfig> ReloadReader::take() {
    std::optional<LoadedConfig> loaded;
    {
        std::lock_guard lock(mutex_);
        loaded.swap(result_);
    }
    if (!loaded) return loaded;
    thread_.join();
    reading_ = false;
    return loaded;
}

void ReloadReader::join() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace pushsync::sender
