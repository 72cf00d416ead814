#pragma once
// The sender process around the pipeline: one libev loop (libev: timers, signals, async wake-ups
// and the APNs client's sockets in one small, well-tested loop instead of hand-kept epoll state),
// the queue consumer thread, the heartbeat, and the shutdown sequence.
#include <cstdint>
#include <functional>
#include <memory>

#include "sender/logger.hpp"
#include "sender/transport.hpp"
#include "shared/config.hpp"

struct ev_loop;

namespace pushsync::sender {

struct DaemonOptions {
    // SIGTERM/SIGINT: pushes on the wire get this long to be answered; the rest is handed back
    // (left in the outbox for the next start).
    std::uint32_t shutdown_grace_ms = 5000;
};

class Daemon {
public:
    using MakeFactory = std::function<TransportFactory(struct ev_loop* loop)>;

    // Opens the store and the queue (creating them when nginx has not yet); throws StoreError,
    // QueueError, or std::runtime_error from a transport (credentials).
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
