// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The sender process around the pipeline: one libev loop (libev: timers, signals, async wake-ups
// and the APNs client's sockets in one small, well-tested loop instead of hand-kept epoll state),
// the queue consumer thread, the heartbeat, the reload on SIGHUP, and the shutdown sequence.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "sender/intake/consumer.hpp"
#include "sender/daemon/credentials.hpp"
#include "sender/logger.hpp"
#include "sender/fanout/routes.hpp"
#include "sender/transport.hpp"
#include "shared/config/config.hpp"

struct ev_loop;

namespace pushsync::sender {

struct DaemonOptions {
    // SIGTERM/SIGINT: pushes on the wire get this long to be answered; the rest is handed back
    // (left in the outbox for the next start).
    std::uint32_t shutdown_grace_ms = 5000;
    // Reads and checks the credentials each connection needs (credentials.hpp: load_credentials);
    // empty: the transports read their own (tests with fake transports).
    std::function<std::vector<CredentialExpiry>(const Config& config, Routes& routes)> load_credentials;
    // A client certificate closer than this to its expiry is warned about (at start, at each
    // reload, and daily).
    std::int64_t expiry_warning_s = 30 * 86400;
    // Entries the loop holds at most (QueueConsumer::bound_loop); 0: unbounded.
    std::size_t max_loop_entries = QueueConsumer::kLoopEntries;
};

class Daemon {
public:
    using MakeFactory = std::function<TransportFactory(struct ev_loop* loop)>;

    // Opens the store and the queue (creating them when nginx has not yet); throws StoreError,
    // QueueError, ConfigError (credentials), or std::runtime_error from a transport.
    //
    // SIGHUP re-reads config.file and every key and certificate it names on a thread; a valid
    // result applies on the loop (Pipeline::reconfigure), anything else leaves the running
    // configuration in force with one log line. Keys that need a restart refuse the reload.
    Daemon(const Config& config, Logger& log, MakeFactory make_factory, DaemonOptions options = {});
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Runs until SIGTERM/SIGINT or request_stop(); returns the exit status (0).
    int run();
    // Thread-safe: begins the same shutdown as SIGTERM.
    void request_stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pushsync::sender
