// SPDX-License-Identifier: BSD-2-Clause
#include "sender/logger.hpp"

#include <chrono>
#include <ctime>

namespace pushsync::sender {

std::string_view to_string(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::error: return "error";
        case LogLevel::warn: return "warn";
        case LogLevel::info: return "info";
        case LogLevel::debug: return "debug";
    }
    return "?";
}

Logger::Logger(LogLevel level) : level_(level) {}

Logger::Logger(LogLevel level, Sink sink) : level_(level), sink_(std::move(sink)) {}

void Logger::log(LogLevel level, std::string_view event, std::string_view fields) {
    if (!enabled(level)) return;
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[96];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    std::string line;
    line.reserve(64 + event.size() + fields.size());
    line.append(stamp).append(" ").append(to_string(level)).append(" ").append(event);
    if (!fields.empty()) line.append(" ").append(fields);
    std::lock_guard lock(mutex_);
    if (sink_) {
        sink_(line);
    } else {
        line.push_back('\n');
        // One write per line so lines of two threads never interleave.
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
    }
}

}  // namespace pushsync::sender
