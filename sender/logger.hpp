// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One line per event on stderr: "TIME LEVEL event key=value …", filtered by sender.log_level.
// Lines carry the ids that matter (group, token prefix, apns-id). Thread-safe: the queue
// consumer thread logs too.
#include <atomic>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "shared/config/config.hpp"

namespace pushsync::sender {

class Logger {
public:
    using Sink = std::function<void(std::string_view line)>;  // without the newline

    explicit Logger(LogLevel level);  // writes to stderr
    Logger(LogLevel level, Sink sink);

    bool enabled(LogLevel level) const noexcept { return level <= level_.load(std::memory_order_relaxed); }
    // A reload's sender.log_level; the consumer and writer threads see it at their next line.
    void set_level(LogLevel level) noexcept { level_.store(level, std::memory_order_relaxed); }
    void log(LogLevel level, std::string_view event, std::string_view fields = {});
    void error(std::string_view event, std::string_view fields = {}) { log(LogLevel::error, event, fields); }
    void warn(std::string_view event, std::string_view fields = {}) { log(LogLevel::warn, event, fields); }
    void info(std::string_view event, std::string_view fields = {}) { log(LogLevel::info, event, fields); }
    void debug(std::string_view event, std::string_view fields = {}) { log(LogLevel::debug, event, fields); }

private:
    std::atomic<LogLevel> level_;
    Sink sink_;
    std::mutex mutex_;
};

// The first 8 characters of a token: enough to find it, short enough for a log line.
inline std::string_view token_prefix(std::string_view token) { return token.substr(0, 8); }

std::string_view to_string(LogLevel level) noexcept;

}  // namespace pushsync::sender
