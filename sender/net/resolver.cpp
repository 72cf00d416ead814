// SPDX-License-Identifier: BSD-2-Clause
#include "sender/net/resolver.hpp"

#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <exception>
#include <memory>
#include <mutex>
#include <utility>

#include "sender/c_callback.hpp"

namespace pushsync::sender {

// The one piece of state the loop side and a lookup thread both touch. `cancelled` is set under
// the mutex before the loop side stops (and may free) the ev_async, and the thread sends only
// under the same mutex after seeing it clear: a cancelled or destroyed Resolver is never poked.
struct Resolver::Pending {
    Pending(struct ev_loop* loop_, ev_async* async_) : loop(loop_), async(async_) {}
    std::mutex mutex;
    bool cancelled = false;
    bool finished = false;
    Resolution result;
    struct ev_loop* const loop;
    ev_async* const async;
};

namespace {

Resolution getaddrinfo_resolution(const std::string& host, const std::string& port, int flags, int& rc) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags;
    addrinfo* found = nullptr;
    rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
    Resolution resolution;
    if (rc != 0) {
        resolution.error = gai_strerror(rc);
        return resolution;
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, freeaddrinfo);
    for (addrinfo* ai = found; ai; ai = ai->ai_next) {
        auto* bytes = reinterpret_cast<const unsigned char*>(ai->ai_addr);
        resolution.addresses.emplace_back(bytes, bytes + ai->ai_addrlen);
    }
    if (resolution.addresses.empty()) resolution.error = "no address";
    return resolution;
}
}  // namespace

Resolution lookup_with_getaddrinfo(const std::string& host, const std::string& port) {
    int rc = 0;
    return getaddrinfo_resolution(host, port, 0, rc);
}

std::optional<Resolution> lookup_ip_literal(const std::string& host, const std::string& port) {
    int rc = 0;
    // With both flags getaddrinfo parses the strings and never asks DNS, NSS or /etc/services.
    Resolution resolution = getaddrinfo_resolution(host, port, AI_NUMERICHOST | AI_NUMERICSERV, rc);
    if (rc == EAI_NONAME) return std::nullopt;
    return resolution;
}

Resolver::Resolver(struct ev_loop* loop, LookupFunction lookup, FailureReport report_failure)
    : loop_(loop), lookup_(std::move(lookup)), report_failure_(std::move(report_failure)) {
    if (!lookup_) lookup_ = lookup_with_getaddrinfo;
    ev_async_init(&async_, on_async);
    async_.data = this;
}

Resolver::~Resolver() { cancel(); }

std::optional<Resolution> Resolver::resolve(const std::string& host, const std::string& port, Done done) {
    cancel();
    if (auto literal = lookup_ip_literal(host, port)) return literal;

    auto pending = std::make_shared<Pending>(loop_, &async_);
    // Started before the thread exists: a send to a watcher that is not started yet is lost.
    ev_async_start(loop_, &async_);
    // Signals belong to the loop thread (ev_signal); the lookup thread inherits a full block.
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    try {
        thread_ = std::thread(
            [pending, lookup_fn = lookup_, host, port] { run_lookup(pending, lookup_fn, host, port); });
    } catch (...) {
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        ev_async_stop(loop_, &async_);
        throw;
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    pending_ = std::move(pending);
    done_ = std::move(done);
    return std::nullopt;
}

void Resolver::cancel() noexcept {
    if (!pending_) return;
    {
        std::lock_guard lock(pending_->mutex);
        pending_->cancelled = true;
    }
    ev_async_stop(loop_, &async_);
    // Never joined here: the thread may sit in getaddrinfo for as long as DNS takes. It owns
    // everything it touches (its share of Pending, its copies of the lookup and the strings).
    if (thread_.joinable()) thread_.detach();
    pending_.reset();
    done_ = nullptr;
}

void Resolver::on_async(struct ev_loop* loop, ev_async* watcher, int) noexcept {
    auto* self = static_cast<Resolver*>(watcher->data);
    // `done` may end the Resolver's owner, and with it the Resolver: report through a copy.
    FailureReport report;
    try {
        report = self->report_failure_;
    } catch (...) {
    }
    guard_ev(
        loop, [&] { self->deliver(); },
        [&report](const std::string& what) {
            if (report) report(what);
        });
}

void Resolver::deliver() {
    if (!pending_) return;
    Resolution result;
    {
        std::lock_guard lock(pending_->mutex);
        if (!pending_->finished) return;
        result = std::move(pending_->result);
    }
    // The thread's send was its last use of shared state: joining only waits for it to return.
    if (thread_.joinable()) thread_.join();
    ev_async_stop(loop_, &async_);
    pending_.reset();
    Done done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));  // last: it may destroy this Resolver
}

// Nothing may escape a thread function (std::terminate); if even reporting fails, nothing is
// delivered and the owner's timeout ends the wait.
void Resolver::run_lookup(const std::shared_ptr<Pending>& pending, const LookupFunction& lookup_fn,
                          const std::string& host, const std::string& port) noexcept {
    try {
        Resolution result;
        try {
            result = lookup_fn(host, port);
            if (result.error.empty() && result.addresses.empty()) result.error = "no address";
        } catch (const std::exception& e) {
            result = Resolution{};
            result.error = e.what();
        } catch (...) {
            result = Resolution{};
            result.error = "unknown exception";
        }
        std::lock_guard lock(pending->mutex);
        if (pending->cancelled) return;  // the late answer of a lookup nobody waits for
        pending->result = std::move(result);
        pending->finished = true;
        ev_async_send(pending->loop, pending->async);
    } catch (...) {
    }
}

}  // namespace pushsync::sender
