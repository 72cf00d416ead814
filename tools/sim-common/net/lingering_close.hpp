// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Closing a TCP socket that still has unread input makes the kernel send RST, and the peer may
// then lose answers it had not read yet. A server that ends a connection gracefully (GOAWAY, then
// close) must not do that: this half-closes the socket and reads and discards until the client
// closes its side, or a grace period passes.
#include <ev.h>

#include "tools/sim-common/net/unique_fd.hpp"

namespace sim {

class LingeringClose {
public:
    LingeringClose(struct ev_loop* loop, UniqueFd fd, double grace_s = 2.0);
    ~LingeringClose();
    LingeringClose(const LingeringClose&) = delete;
    LingeringClose& operator=(const LingeringClose&) = delete;

    bool done() const noexcept { return fd_.get() < 0; }

private:
    static void on_read(struct ev_loop* loop, ev_io* w, int revents);
    static void on_timeout(struct ev_loop* loop, ev_timer* w, int revents);
    void finish() noexcept;

    struct ev_loop* loop_;
    UniqueFd fd_;
    ev_io io_{};
    ev_timer timer_{};
};

}  // namespace sim
