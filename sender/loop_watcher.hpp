// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// libev watchers whose callbacks are ordinary member functions of their owner. libev calls one
// template (loop_trampoline), which runs the member through guard_ev (sender/c_callback.hpp): no
// exception unwinds through libev, and the owner's callback_failed(name) reports the one that
// escaped. The owner keeps one LoopWatchers, so every watcher it bound is stopped in one place.
#include <ev.h>

#include <deque>

#include "sender/c_callback.hpp"

namespace pushsync::sender {

// libev names its start/stop functions per watcher type; these overloads let a template call them.
inline void start_watcher(struct ev_loop* loop, ev_async* w) noexcept { ev_async_start(loop, w); }
inline void start_watcher(struct ev_loop* loop, ev_signal* w) noexcept { ev_signal_start(loop, w); }
inline void start_watcher(struct ev_loop* loop, ev_timer* w) noexcept { ev_timer_start(loop, w); }
inline void start_watcher(struct ev_loop* loop, ev_prepare* w) noexcept { ev_prepare_start(loop, w); }
inline void stop_watcher(struct ev_loop* loop, ev_async* w) noexcept { ev_async_stop(loop, w); }
inline void stop_watcher(struct ev_loop* loop, ev_signal* w) noexcept { ev_signal_stop(loop, w); }
inline void stop_watcher(struct ev_loop* loop, ev_timer* w) noexcept { ev_timer_stop(loop, w); }
inline void stop_watcher(struct ev_loop* loop, ev_prepare* w) noexcept { ev_prepare_stop(loop, w); }

// What a bound watcher's data points at: whose handler runs, and its name for reports.
template <class Owner>
struct LoopBinding {
    Owner* owner;
    const char* name;
    void* watcher;
    void (*stop)(struct ev_loop*, void*) noexcept;
};

// The one libev callback: calls Handler on the owner the watcher was bound to.
template <class Owner, class Watcher, void (Owner::*Handler)(Watcher&)>
void loop_trampoline(struct ev_loop* loop, Watcher* w, int) noexcept {
    const LoopBinding<Owner>& binding = *static_cast<const LoopBinding<Owner>*>(w->data);
    Owner& owner = *binding.owner;
    guard_ev(loop, [&] { (owner.*Handler)(*w); }, owner.callback_failed(binding.name));
}

// Owner provides `auto callback_failed(const char* name) noexcept`, returning what guard_ev
// reports an escaped exception to.
template <class Owner>
class LoopWatchers {
public:
    LoopWatchers(struct ev_loop* loop, Owner& owner) : loop_(loop), owner_(owner) {}
    ~LoopWatchers() { stop_all(); }
    LoopWatchers(const LoopWatchers&) = delete;
    LoopWatchers& operator=(const LoopWatchers&) = delete;

    // Points `w` at Handler (`void Owner::handler(Watcher&)`); not started. `name` names the
    // callback in reports and must outlive the loop (a string literal).
    template <auto Handler, class Watcher>
    void bind(Watcher& w, const char* name) {
        Binding& binding = bindings_.emplace_back(Binding{&owner_, name, &w, &stop<Watcher>});
        ev_init(&w, (&loop_trampoline<Owner, Watcher, Handler>));
        w.data = &binding;
    }
    // bind(), then starts it.
    template <auto Handler, class Watcher>
    void bind_and_start(Watcher& w, const char* name) {
        bind<Handler>(w, name);
        start_watcher(loop_, &w);
    }

    // Every bound watcher; they may be started again (by start_watcher) while the loop lives.
    void stop_all() noexcept {
        for (const Binding& binding : bindings_) binding.stop(loop_, binding.watcher);
    }

private:
    using Binding = LoopBinding<Owner>;

    template <class Watcher>
    static void stop(struct ev_loop* loop, void* w) noexcept {
        stop_watcher(loop, static_cast<Watcher*>(w));
    }

    struct ev_loop* loop_;
    Owner& owner_;
    std::deque<Binding> bindings_;  // a deque: each watcher's data points at its Binding
};

}  // namespace pushsync::sender
