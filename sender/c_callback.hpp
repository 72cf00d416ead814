// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Exceptions must never unwind through libev's or nghttp2's C frames: that is undefined
// behaviour (in practice std::terminate with no log line). Every C callback of the sender runs
// its body through one of these guards, which are noexcept and catch everything.
#include <ev.h>
#include <nghttp2/nghttp2.h>

#include <exception>
#include <string>

namespace pushsync::sender {

// Hands the exception in flight to report(what); must be called from inside a catch handler.
// A report that throws itself is dropped: nothing may leave a guard.
template <class Report>
void report_current_exception(Report& report) noexcept {
    try {
        try {
            throw;
        } catch (const std::exception& e) {
            report(std::string(e.what()));
        } catch (...) {
            report(std::string("unknown exception"));
        }
    } catch (...) {
    }
}

// nghttp2: an escaping exception fails the session with NGHTTP2_ERR_CALLBACK_FAILURE, which the
// connection then handles like any other HTTP/2 error (it closes, its streams are retried).
template <class Body, class Report>
auto guard_nghttp2(Body&& body, Report&& report) noexcept -> decltype(body()) {
    try {
        return body();
    } catch (...) {
        report_current_exception(report);
    }
    return NGHTTP2_ERR_CALLBACK_FAILURE;
}

// libev: an escaping exception stops the loop (state may be half-updated, going on is unsafe);
// Daemon::run() then returns non-zero because the loop did not end through its shutdown path.
template <class Body, class Report>
void guard_ev(struct ev_loop* loop, Body&& body, Report&& report) noexcept {
    try {
        body();
        return;
    } catch (...) {
        report_current_exception(report);
    }
    ev_break(loop, EVBREAK_ALL);
}

}  // namespace pushsync::sender
