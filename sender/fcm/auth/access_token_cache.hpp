// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The OAuth 2.0 access token of one service account (docs/fcm.md §1): when to fetch one, which
// one a push goes with, what a 401 from FCM means, and who waits while there is none. The
// network is the owner's: the cache asks it to fetch (Hooks::fetch) and is told the answer
// (on_answer), so it runs on a fake clock without sockets.
//
// Rules:
// - A token is used from its answer until fetch start + expires_in (the endpoint's clock began
//   counting no earlier than the request). A fresh one is fetched refresh_margin_ms before that:
//   min(300 s, a tenth of the lifetime). Google's 3599 s tokens are refreshed 5 minutes before
//   they end, a simulator's 5 s tokens half a second before; either way the old token serves
//   while the new one is fetched, so no push waits for a refresh.
// - No valid token: pushes wait (wait()), they are not failed; every waiter is called once the
//   next token arrives, however many fetches that takes.
// - A failed fetch (Kind::failed or credentials) is retried after retry_base_ms doubling per
//   consecutive failure up to retry_max_ms. No jitter: there is one fetcher per service account.
// - FCM's 401 on the current token: that token is dropped and a new one fetched at once (once a
//   backoff that is running has passed). A 401 on the token fetched that way, before FCM accepted
//   it, is a credential problem: the alert hook is called and the push should be held for the
//   operator (Unauthorized::credentials); the token is kept, so a held push's probe shows when
//   the operator's fix (IAM role, API enabled) took effect. Tokens fetched while that problem
//   lasts count as fetched after a 401.
// - The owner arms one timer at next_due_ms() and calls poll() then.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sender/clock.hpp"
#include "sender/fcm/auth/token_answer.hpp"

namespace pushsync::sender::fcm {

// Outside the class: g++ cannot take a nested struct's member initialisers as a default argument.
struct AccessTokenRetry {
    std::int64_t retry_base_ms = 1000;
    std::int64_t retry_max_ms = 60'000;
};

class AccessTokenCache {
public:
    struct Token {
        std::string value;            // for "authorization: Bearer <value>"
        std::uint64_t generation = 0;  // 1 for the first token; on_unauthorized() names it
        std::int64_t expires_at_ms = 0;  // Clock::now_ms() time
    };

    struct Hooks {
        // Start one token request (assertion, POST to token_uri) and answer it later with
        // on_answer(), never from inside this call. Never called while one is outstanding.
        std::function<void()> fetch;
        // The credentials were refused (the token endpoint's OAuth error, or FCM's second 401):
        // one call each time the cache enters that state, with the operator's alert text.
        std::function<void(const std::string& problem)> alert;
    };

    enum class State {
        no_token,  // none valid, none being fetched (at the start, or backing off after a failure)
        fetching,  // none valid, one being fetched
        valid,     // one valid (perhaps with its successor being fetched)
    };

    enum class Unauthorized {
        retry,        // send the push again with current() (or wait() for the coming token)
        credentials,  // hold the push and its app's others: the operator was alerted
    };

    using Waiter = std::function<void(const Token& token)>;

    static constexpr std::int64_t max_refresh_margin_ms = 300'000;

    AccessTokenCache(const Clock& clock, Hooks hooks, AccessTokenRetry retry = {});
    AccessTokenCache(const AccessTokenCache&) = delete;
    AccessTokenCache& operator=(const AccessTokenCache&) = delete;

    // min(300 s, lifetime / 10): how long before its end a token is replaced.
    static std::int64_t refresh_margin_ms(std::int64_t lifetime_ms) noexcept;

    // The token to send with, or nullptr when none is valid (then wait()). Starts a fetch when
    // one is due.
    const Token* current();
    // Keeps `waiter` until a token arrives; it is called once, from on_answer(). Call it only
    // when current() said nullptr. Starts a fetch when one is due.
    void wait(Waiter waiter);
    std::size_t waiting() const noexcept { return waiters_.size(); }
    // The waiters, handed back to the owner (drain, shutdown): the cache forgets them.
    std::vector<Waiter> take_waiters() noexcept;

    // When poll() should run: the next refresh or retry; -1 while a fetch is outstanding.
    std::int64_t next_due_ms() const noexcept;
    // Starts the fetch that is due, if one is.
    void poll();

    // The outcome of the fetch Hooks::fetch started: a token, refused credentials, a failure.
    // An answer when none is outstanding is ignored.
    void on_answer(const TokenAnswer& answer);

    // FCM answered 401 to a request sent with the token of `generation`.
    Unauthorized on_unauthorized(std::uint64_t generation);
    // FCM accepted a request sent with the token of `generation` (any answer but 401 shows it
    // was; 200 is the usual one): a later 401 on it earns a refresh again, and a credential
    // problem FCM raised is over.
    void on_accepted(std::uint64_t generation) noexcept;

    State state() const noexcept;
    bool fetching() const noexcept { return fetching_; }
    bool credentials_rejected() const noexcept { return problem_ != Problem::none; }
    const std::string& problem() const noexcept { return problem_text_; }
    std::uint32_t failures() const noexcept { return failures_; }  // consecutive failed fetches
    std::uint64_t fetches() const noexcept { return fetches_; }    // fetches started

private:
    enum class Problem { none, token_endpoint, fcm };

    bool valid(std::int64_t now) const noexcept { return has_token_ && now < token_.expires_at_ms; }
    void maybe_fetch(std::int64_t now);
    void failed(std::int64_t now);
    void raise(Problem problem, std::string text);

    const Clock& clock_;
    Hooks hooks_;
    AccessTokenRetry retry_;

    Token token_;
    bool has_token_ = false;
    std::int64_t refresh_at_ms_ = 0;
    // The current token was fetched because its predecessor got a 401, and FCM has not accepted it.
    bool token_after_401_ = false;

    bool fetching_ = false;
    std::int64_t fetch_started_ms_ = 0;
    bool next_after_401_ = false;  // what the outstanding or next fetch brings counts as after a 401
    std::int64_t retry_at_ms_ = -1;
    std::uint32_t failures_ = 0;
    std::uint64_t fetches_ = 0;

    Problem problem_ = Problem::none;
    std::string problem_text_;
    std::vector<Waiter> waiters_;
};

std::string_view to_string(AccessTokenCache::State state) noexcept;

}  // namespace pushsync::sender::fcm
