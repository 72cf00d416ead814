// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Exceptions must never unwind through nginx's C frames: that is undefined behaviour (in practice
// std::terminate, taking the worker and its connections down). Every function nginx calls runs its
// body through guard(), as the sender's C callbacks do through sender/c_callback.hpp.
#include <exception>
#include <type_traits>

#include "ngx_module/ngx_headers.hpp"

namespace pushsync::ngx {

// What escaped a guarded body.
struct Failure {
    const char* what;                 // e.what(), or "unknown exception"
    const std::exception* exception;  // nullptr when it was not a std::exception
};

// Runs body(); when it throws, returns on_failure(failure) instead. on_failure must be noexcept:
// nothing leaves a guard.
template <class Body, class OnFailure>
auto guard(Body&& body, OnFailure&& on_failure) noexcept -> decltype(body()) {
    static_assert(std::is_nothrow_invocable_v<OnFailure&, const Failure&>, "a guard's failure path must not throw");
    try {
        return body();
    } catch (const std::exception& e) {
        return on_failure(Failure{e.what(), &e});
    } catch (...) {
        return on_failure(Failure{"unknown exception", nullptr});
    }
}

// The one line a failure gets in the error log: "pushsync: <event>: <what>", where the event says
// what did not happen ("store write failed", "queue unavailable").
void log_failure(ngx_log_t* log, ngx_uint_t level, const char* event, const Failure& failure) noexcept;

}  // namespace pushsync::ngx
