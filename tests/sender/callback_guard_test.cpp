// SPDX-License-Identifier: BSD-2-Clause
// sender/c_callback.hpp: no exception leaves a C callback. nghttp2 callbacks answer
// NGHTTP2_ERR_CALLBACK_FAILURE; libev callbacks stop the (real) loop; both report what escaped.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sender/c_callback.hpp"

namespace pushsync::sender {
namespace {

TEST(DaemonCallbackGuard, Nghttp2CallbackThatThrowsAnswersCallbackFailureAndReports) {
    std::vector<std::string> reports;
    auto report = [&](const std::string& what) { reports.push_back(what); };
    EXPECT_EQ(guard_nghttp2([]() -> int { return 0; }, report), 0);
    EXPECT_EQ(guard_nghttp2([]() -> int { throw std::runtime_error("boom"); }, report), NGHTTP2_ERR_CALLBACK_FAILURE);
    EXPECT_EQ(guard_nghttp2([]() -> long { throw 42; }, report), NGHTTP2_ERR_CALLBACK_FAILURE);
    EXPECT_EQ(reports, (std::vector<std::string>{"boom", "unknown exception"}));
    // A report that throws itself is dropped: still nothing escapes.
    EXPECT_EQ(guard_nghttp2([]() -> int { throw std::runtime_error("x"); },
                            [](const std::string&) { throw std::runtime_error("log failed"); }),
              NGHTTP2_ERR_CALLBACK_FAILURE);
}

struct LoopFree {
    void operator()(struct ev_loop* loop) const noexcept { ev_loop_destroy(loop); }
};

struct Watched {
    ev_timer timer{};
    ev_timer later{};  // would keep the loop running if the guard did not break it
    std::vector<std::string> reports;
    bool later_fired = false;
};

TEST(DaemonCallbackGuard, LibevCallbackThatThrowsStopsTheLoopAndReports) {
    std::unique_ptr<struct ev_loop, LoopFree> loop(ev_loop_new(EVFLAG_AUTO));
    ASSERT_TRUE(loop);
    Watched w;
    ev_timer_init(
        &w.timer,
        [](struct ev_loop* l, ev_timer* t, int) noexcept {
            auto* self = static_cast<Watched*>(t->data);
            guard_ev(
                l, [] { throw std::runtime_error("broken state"); },
                [self](const std::string& what) { self->reports.push_back(what); });
        },
        0.0, 0.0);
    ev_timer_init(
        &w.later, [](struct ev_loop*, ev_timer* t, int) { static_cast<Watched*>(t->data)->later_fired = true; }, 3600.0,
        0.0);
    w.timer.data = w.later.data = &w;
    ev_timer_start(loop.get(), &w.timer);
    ev_timer_start(loop.get(), &w.later);
    ev_run(loop.get(), 0);  // returns only because the guard broke the loop
    EXPECT_EQ(w.reports, (std::vector<std::string>{"broken state"}));
    EXPECT_FALSE(w.later_fired);
    ev_timer_stop(loop.get(), &w.later);
}

}  // namespace
}  // namespace pushsync::sender
