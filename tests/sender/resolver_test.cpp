// SPDX-License-Identifier: BSD-2-Clause
// sender/net/resolver.hpp: host lookups run off the libev loop. An IP literal resolves at once; a
// name comes back through the loop; a lookup that blocks never stalls other watchers, can be
// cancelled without waiting for it, and an H2Connection's connect timeout ends it.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sender/net/h2_connection.hpp"
#include "sender/net/resolver.hpp"
#include "sender/net/tls_context.hpp"
#include "tests/support/process.hpp"

namespace pushsync::sender {
namespace {

using namespace std::chrono_literals;

struct LoopFree {
    void operator()(struct ev_loop* loop) const noexcept { ev_loop_destroy(loop); }
};
using Loop = std::unique_ptr<struct ev_loop, LoopFree>;

// Runs the loop until `done` holds or `timeout` passes (then false).
bool run_until(struct ev_loop* loop, const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    ev_timer tick;  // wakes ev_run so `done` and the deadline are checked even when idle
    ev_timer_init(&tick, [](struct ev_loop*, ev_timer*, int) noexcept {}, 0.005, 0.005);
    ev_timer_start(loop, &tick);
    bool ok = true;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            ok = false;
            break;
        }
        ev_run(loop, EVRUN_ONCE);
    }
    ev_timer_stop(loop, &tick);
    return ok;
}

// A lookup that blocks until the test releases it: a DNS server that takes as long as we like.
struct LookupGate {
    std::mutex mutex;
    std::condition_variable changed;
    int entered = 0;
    bool released = false;
    Resolution answer;

    bool wait_entered(int count) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 10s, [&] { return entered >= count; });
    }
    void release() {
        std::lock_guard lock(mutex);
        released = true;
        changed.notify_all();
    }
};

LookupFunction gated_lookup(const std::shared_ptr<LookupGate>& gate) {
    return [gate](const std::string&, const std::string&) {
        std::unique_lock lock(gate->mutex);
        ++gate->entered;
        gate->changed.notify_all();
        gate->changed.wait(lock, [&] { return gate->released; });
        return gate->answer;
    };
}

// True once no lookup thread holds the gate any more (the test's own reference aside): every
// thread has returned and dropped its copy of the lookup.
bool lookup_threads_gone(const std::shared_ptr<LookupGate>& gate) {
    return test::wait_until([&] { return gate.use_count() == 1; });
}

Resolution one_address(int family) {
    sockaddr_storage address{};
    address.ss_family = static_cast<sa_family_t>(family);
    auto* bytes = reinterpret_cast<const unsigned char*>(&address);
    Resolution resolution;
    resolution.addresses.emplace_back(bytes, bytes + sizeof address);
    return resolution;
}

int family_of(const std::vector<unsigned char>& address) {
    return reinterpret_cast<const sockaddr*>(address.data())->sa_family;
}

auto unreported = [](const std::string& what) { ADD_FAILURE() << "escaped the resolver's callback: " << what; };

TEST(Resolver, IpLiteralResolvesAtOnceWithoutTheLookup) {
    Loop loop(ev_loop_new(EVFLAG_AUTO));
    int lookups = 0;
    Resolver resolver(
        loop.get(),
        [&](const std::string&, const std::string&) {
            ++lookups;
            return Resolution{};
        },
        unreported);
    bool done_called = false;
    auto done = [&](Resolution) { done_called = true; };

    std::optional<Resolution> v4 = resolver.resolve("127.0.0.1", "443", done);
    ASSERT_TRUE(v4.has_value());
    EXPECT_EQ(v4->error, "");
    ASSERT_EQ(v4->addresses.size(), 1u);
    EXPECT_EQ(family_of(v4->addresses[0]), AF_INET);
    EXPECT_FALSE(resolver.busy());

    std::optional<Resolution> v6 = resolver.resolve("::1", "2197", done);
    ASSERT_TRUE(v6.has_value());
    ASSERT_EQ(v6->addresses.size(), 1u);
    EXPECT_EQ(family_of(v6->addresses[0]), AF_INET6);

    ev_run(loop.get(), EVRUN_NOWAIT);
    EXPECT_EQ(lookups, 0);
    EXPECT_FALSE(done_called);
}

TEST(Resolver, NameResolvesThroughTheLoop) {
    Loop loop(ev_loop_new(EVFLAG_AUTO));
    Resolver resolver(loop.get(), lookup_with_getaddrinfo, unreported);
    std::optional<Resolution> found;
    std::optional<Resolution> at_once =
        resolver.resolve("localhost", "443", [&](Resolution resolution) { found = std::move(resolution); });
    EXPECT_FALSE(at_once.has_value());
    EXPECT_TRUE(resolver.busy());
    ASSERT_TRUE(run_until(loop.get(), [&] { return found.has_value(); }));
    EXPECT_EQ(found->error, "");
    ASSERT_FALSE(found->addresses.empty());
    for (const auto& address : found->addresses) {
        EXPECT_TRUE(family_of(address) == AF_INET || family_of(address) == AF_INET6);
    }
    EXPECT_FALSE(resolver.busy());
}

TEST(Resolver, LookupErrorAndExceptionComeBackAsTheResolutionError) {
    Loop loop(ev_loop_new(EVFLAG_AUTO));
    Resolver failing(
        loop.get(),
        [](const std::string&, const std::string&) {
            Resolution resolution;
            resolution.error = "Name or service not known";
            return resolution;
        },
        unreported);
    Resolver throwing(
        loop.get(), [](const std::string&, const std::string&) -> Resolution { throw std::runtime_error("nss broke"); },
        unreported);
    std::optional<Resolution> failed;
    std::optional<Resolution> thrown;
    ASSERT_FALSE(failing.resolve("apns.invalid", "443", [&](Resolution r) { failed = std::move(r); }));
    ASSERT_FALSE(throwing.resolve("apns.invalid", "443", [&](Resolution r) { thrown = std::move(r); }));
    ASSERT_TRUE(run_until(loop.get(), [&] { return failed && thrown; }));
    EXPECT_EQ(failed->error, "Name or service not known");
    EXPECT_EQ(thrown->error, "nss broke");
    EXPECT_TRUE(thrown->addresses.empty());
}

struct Ticker {
    ev_timer timer{};
    int fired = 0;
};

TEST(Resolver, LoopRunsOtherWatchersWhileALookupBlocks) {
    Loop loop(ev_loop_new(EVFLAG_AUTO));
    auto gate = std::make_shared<LookupGate>();
    gate->answer = one_address(AF_INET);
    auto resolver = std::make_unique<Resolver>(loop.get(), gated_lookup(gate), unreported);
    std::optional<Resolution> found;
    ASSERT_FALSE(resolver->resolve("apns.example", "443", [&](Resolution r) { found = std::move(r); }));
    ASSERT_TRUE(gate->wait_entered(1));

    Ticker ticker;
    ev_timer_init(
        &ticker.timer, [](struct ev_loop*, ev_timer* w, int) noexcept { ++static_cast<Ticker*>(w->data)->fired; },
        0.001, 0.001);
    ticker.timer.data = &ticker;
    ev_timer_start(loop.get(), &ticker.timer);
    ASSERT_TRUE(run_until(loop.get(), [&] { return ticker.fired >= 5; }));
    ev_timer_stop(loop.get(), &ticker.timer);
    EXPECT_FALSE(found.has_value());  // the lookup is still blocked: the timer ran beside it
    EXPECT_TRUE(resolver->busy());

    gate->release();
    ASSERT_TRUE(run_until(loop.get(), [&] { return found.has_value(); }));
    EXPECT_EQ(found->error, "");
    EXPECT_EQ(found->addresses.size(), 1u);
    resolver.reset();
    EXPECT_TRUE(lookup_threads_gone(gate));
}

TEST(Resolver, DestroyingItWhileALookupBlocksReturnsAtOnceAndDropsTheLateResult) {
    Loop loop(ev_loop_new(EVFLAG_AUTO));
    auto gate = std::make_shared<LookupGate>();
    gate->answer = one_address(AF_INET);
    bool done_called = false;
    auto resolver = std::make_unique<Resolver>(loop.get(), gated_lookup(gate), unreported);
    ASSERT_FALSE(resolver->resolve("apns.example", "443", [&](Resolution) { done_called = true; }));
    ASSERT_TRUE(gate->wait_entered(1));

    resolver.reset();  // the lookup is still blocked: this must not wait for it (a hang fails by timeout)
    gate->release();
    ASSERT_TRUE(lookup_threads_gone(gate));  // the late result met a cancelled request
    ev_run(loop.get(), EVRUN_NOWAIT);
    EXPECT_FALSE(done_called);
}

TEST(Resolver, CancelledLookupsLateResultNeverReachesTheNextRequest) {
    Loop loop(ev_loop_new(EVFLAG_AUTO));
    auto slow = std::make_shared<LookupGate>();
    slow->answer = one_address(AF_INET6);
    auto fast = std::make_shared<LookupGate>();
    fast->answer = one_address(AF_INET);
    fast->release();
    LookupFunction slow_then_fast = [slow_lookup = gated_lookup(slow), fast_lookup = gated_lookup(fast)](
                                        const std::string& host, const std::string& port) {
        return host == "slow.example" ? slow_lookup(host, port) : fast_lookup(host, port);
    };
    Resolver resolver(loop.get(), std::move(slow_then_fast), unreported);

    std::vector<std::string> delivered;
    auto record = [&](const char* which) {
        return [&delivered, which](Resolution r) {
            delivered.push_back(std::string(which) + " family=" + std::to_string(family_of(r.addresses.at(0))));
        };
    };
    ASSERT_FALSE(resolver.resolve("slow.example", "443", record("slow")));
    ASSERT_TRUE(slow->wait_entered(1));
    resolver.cancel();
    EXPECT_FALSE(resolver.busy());
    slow->release();  // its answer now races the next request's
    ASSERT_FALSE(resolver.resolve("fast.example", "443", record("fast")));
    ASSERT_TRUE(run_until(loop.get(), [&] { return !delivered.empty(); }));
    ASSERT_TRUE(test::wait_until([&] { return slow.use_count() == 2; }));  // ours and the resolver's: the slow thread is done
    ev_run(loop.get(), EVRUN_NOWAIT);
    EXPECT_EQ(delivered, (std::vector<std::string>{"fast family=" + std::to_string(AF_INET)}));
}

// ---- the connection's resolving phase ----

struct RecordingOwner final : ConnectionOwner {
    std::vector<std::string> closed;
    void on_connection_ready(H2Connection&) override {}
    void on_stream_result(H2Connection&, std::uint64_t, StreamResult) override {}
    void on_goaway(H2Connection&) override {}
    void on_connection_closed(H2Connection&, const std::string& why) override { closed.push_back(why); }
    void after_event() override {}
};

struct ConnectionFixture {
    Loop loop{ev_loop_new(EVFLAG_AUTO)};
    TlsContext tls{TlsClientOptions{}};
    RecordingOwner owner;
    std::vector<std::string> log_lines;
    TransportLogger log{[this](LogLevel, const std::string& line) { log_lines.push_back(line); }};

    std::unique_ptr<H2Connection> connection(const std::string& url, ConnectOptions options) {
        return std::make_unique<H2Connection>(loop.get(), parse_endpoint(url), tls, owner, log, 1, 0.0,
                                                std::move(options));
    }
    bool logged(const std::string& text) const {
        for (const auto& line : log_lines) {
            if (line.find(text) != std::string::npos) return true;
        }
        return false;
    }
};

TEST(H2ConnectionResolving, LookupThatNeverEndsFailsAtTheConnectTimeoutWithAReason) {
    ConnectionFixture f;
    auto gate = std::make_shared<LookupGate>();
    ConnectOptions options;
    options.timeout_s = 0.2;
    options.lookup = gated_lookup(gate);
    auto connection = f.connection("https://apns.example.invalid", std::move(options));
    std::string why;
    ASSERT_TRUE(connection->start(why)) << why;
    ASSERT_TRUE(gate->wait_entered(1));
    EXPECT_FALSE(connection->closed());

    ASSERT_TRUE(run_until(f.loop.get(), [&] { return !f.owner.closed.empty(); }));
    EXPECT_EQ(f.owner.closed, (std::vector<std::string>{"cannot resolve apns.example.invalid: timed out"}));
    EXPECT_TRUE(connection->closed());
    EXPECT_TRUE(f.logged("closed: cannot resolve apns.example.invalid: timed out"));

    connection.reset();
    gate->release();
    ASSERT_TRUE(lookup_threads_gone(gate));
    ev_run(f.loop.get(), EVRUN_NOWAIT);
    EXPECT_EQ(f.owner.closed.size(), 1u);  // the late answer reopened nothing
}

TEST(H2ConnectionResolving, FailedLookupClosesTheConnectionWithItsReason) {
    ConnectionFixture f;
    ConnectOptions options;
    options.lookup = [](const std::string&, const std::string&) {
        Resolution resolution;
        resolution.error = "Name or service not known";
        return resolution;
    };
    auto connection = f.connection("https://apns.example.invalid:2197", options);
    std::string why;
    ASSERT_TRUE(connection->start(why)) << why;
    ASSERT_TRUE(run_until(f.loop.get(), [&] { return !f.owner.closed.empty(); }));
    EXPECT_EQ(f.owner.closed,
              (std::vector<std::string>{"cannot resolve apns.example.invalid: Name or service not known"}));
}

TEST(H2ConnectionResolving, DrainingWhileResolvingClosesAndDropsTheLookup) {
    ConnectionFixture f;
    auto gate = std::make_shared<LookupGate>();
    gate->answer = one_address(AF_INET);
    ConnectOptions options;
    options.lookup = gated_lookup(gate);
    auto connection = f.connection("https://apns.example.invalid", std::move(options));
    std::string why;
    ASSERT_TRUE(connection->start(why)) << why;
    ASSERT_TRUE(gate->wait_entered(1));
    connection->begin_drain("shutdown");
    EXPECT_TRUE(connection->closed());
    EXPECT_EQ(f.owner.closed, (std::vector<std::string>{"shutdown"}));
    gate->release();
    connection.reset();
    ASSERT_TRUE(lookup_threads_gone(gate));
    ev_run(f.loop.get(), EVRUN_NOWAIT);
    EXPECT_EQ(f.owner.closed.size(), 1u);
}

TEST(H2ConnectionResolving, IpLiteralConnectsWithoutALookup) {
    ConnectionFixture f;
    int lookups = 0;
    ConnectOptions options;
    options.lookup = [&](const std::string&, const std::string&) {
        ++lookups;
        return Resolution{};
    };
    int port = test::free_tcp_port();  // nobody listens: the connect itself fails, after resolving
    auto connection = f.connection("https://127.0.0.1:" + std::to_string(port), options);
    std::string why;
    if (connection->start(why)) {  // loopback may refuse inside connect() already
        ASSERT_TRUE(run_until(f.loop.get(), [&] { return !f.owner.closed.empty(); }));
        why = f.owner.closed.at(0);
    }
    EXPECT_EQ(lookups, 0);
    EXPECT_NE(why.find("connect 127.0.0.1:"), std::string::npos) << why;
}

}  // namespace
}  // namespace pushsync::sender
