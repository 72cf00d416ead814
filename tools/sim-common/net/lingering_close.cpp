// SPDX-License-Identifier: BSD-2-Clause
#include "tools/sim-common/net/lingering_close.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace sim {

LingeringClose::LingeringClose(struct ev_loop* loop, UniqueFd fd, double grace_s) : loop_(loop), fd_(std::move(fd)) {
    if (fd_.get() < 0) return;
    ::shutdown(fd_.get(), SHUT_WR);  // FIN after whatever is still queued for the client
    ev_io_init(&io_, on_read, fd_.get(), EV_READ);
    io_.data = this;
    ev_io_start(loop_, &io_);
    ev_timer_init(&timer_, on_timeout, grace_s, 0.0);
    timer_.data = this;
    ev_timer_start(loop_, &timer_);
}

LingeringClose::~LingeringClose() { finish(); }

void LingeringClose::finish() noexcept {
    if (fd_.get() < 0) return;
    ev_io_stop(loop_, &io_);
    ev_timer_stop(loop_, &timer_);
    fd_.reset();
}

void LingeringClose::on_read(struct ev_loop*, ev_io* w, int) {
    auto* self = static_cast<LingeringClose*>(w->data);
    char discard[16384];
    for (;;) {
        const ssize_t n = ::recv(self->fd_.get(), discard, sizeof discard, 0);
        if (n > 0) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        self->finish();  // EOF: the client has closed too; or an error: nothing left to protect
        return;
    }
}

void LingeringClose::on_timeout(struct ev_loop*, ev_timer* w, int) { static_cast<LingeringClose*>(w->data)->finish(); }

}  // namespace sim
