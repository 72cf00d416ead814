// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A transport's log sink (APNs, FCM, Web Push clients and their HTTP/2 connections): one line
// per event. The daemon plugs its own logger in through ConnectionConfig::log; without one, lines
// go to stderr with a level prefix (debug dropped).
#include <functional>
#include <string>

#include "sender/transport.hpp"
#include "shared/config/config.hpp"

namespace pushsync::sender {

class TransportLogger {
public:
    explicit TransportLogger(TransportLogSink sink = {}) : sink_(std::move(sink)) {}
    void operator()(LogLevel level, const std::string& line) const;
    void error(const std::string& line) const { (*this)(LogLevel::error, line); }
    void warn(const std::string& line) const { (*this)(LogLevel::warn, line); }
    void info(const std::string& line) const { (*this)(LogLevel::info, line); }
    void debug(const std::string& line) const { (*this)(LogLevel::debug, line); }

private:
    TransportLogSink sink_;
};

}  // namespace pushsync::sender
