// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Host name lookups off the libev loop. getaddrinfo blocks for as long as the DNS server takes
// (seconds, or for ever when it never answers); on the loop thread that stalls every connection,
// the pipeline and the heartbeat. A Resolver runs the lookup on its own thread and hands the
// result back on the loop thread through an ev_async.
#include <ev.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pushsync::sender {

// What a lookup found: sockaddr bytes in the order to try them, or why there are none.
struct Resolution {
    std::vector<std::vector<unsigned char>> addresses;
    std::string error;  // empty on success; then `addresses` is not empty
};

// Performs one blocking lookup of host:port (stream sockets, any family). Runs on the resolver's
// thread; may throw (the resolver turns an exception into Resolution::error).
using LookupFunction = std::function<Resolution(const std::string& host, const std::string& port)>;

// getaddrinfo, uncached: a fresh lookup for every call, as Apple asks of APNs clients.
Resolution lookup_with_getaddrinfo(const std::string& host, const std::string& port);
// An IP literal (127.0.0.1, ::1) without touching DNS; nullopt when `host` is a name.
std::optional<Resolution> lookup_ip_literal(const std::string& host, const std::string& port);

class Resolver {
public:
    using Done = std::function<void(Resolution)>;
    // Hears what escaped `done`; the loop then stops (sender/c_callback.hpp).
    using FailureReport = std::function<void(const std::string& what)>;

    Resolver(struct ev_loop* loop, LookupFunction lookup, FailureReport report_failure);
    // Cancels a lookup in flight without waiting for it.
    ~Resolver();
    Resolver(const Resolver&) = delete;  // the ev_async's address is shared with the lookup thread
    Resolver& operator=(const Resolver&) = delete;

    // An IP literal resolves at once: the result is returned and `done` is never called. A name
    // starts a lookup on a new thread (cancelling any lookup in flight) and returns nullopt;
    // `done` then runs on the loop thread, once, unless cancel() comes first. Throws
    // std::system_error when no thread can be started.
    std::optional<Resolution> resolve(const std::string& host, const std::string& port, Done done);
    // Drops the lookup in flight: `done` will not run. Never waits for the lookup thread, which
    // may be stuck in getaddrinfo; it finishes alone and its result is discarded.
    void cancel() noexcept;
    bool busy() const noexcept { return pending_ != nullptr; }

private:
    struct Pending;  // shared by the loop side and one lookup thread

    // The lookup thread's whole life.
    static void run_lookup(const std::shared_ptr<Pending>& pending, const LookupFunction& lookup_fn,
                           const std::string& host, const std::string& port) noexcept;
    static void on_async(struct ev_loop* loop, ev_async* watcher, int events) noexcept;
    void deliver();

    struct ev_loop* loop_;
    LookupFunction lookup_;
    FailureReport report_failure_;
    ev_async async_{};
    std::shared_ptr<Pending> pending_;
    std::thread thread_;
    Done done_;
};

}  // namespace pushsync::sender
