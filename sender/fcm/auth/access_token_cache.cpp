// SPDX-License-Identifier: BSD-2-Clause
#include "sender/fcm/auth/access_token_cache.hpp"

#include <algorithm>
#include <iterator>

namespace pushsync::sender::fcm {

AccessTokenCache::AccessTokenCache(const Clock& clock, Hooks hooks, AccessTokenRetry retry)
    : clock_(clock), hooks_(std::move(hooks)), retry_(retry) {
    retry_.retry_base_ms = std::max<std::int64_t>(1, retry_.retry_base_ms);
    retry_.retry_max_ms = std::max(retry_.retry_base_ms, retry_.retry_max_ms);
}

std::int64_t AccessTokenCache::refresh_margin_ms(std::int64_t lifetime_ms) noexcept {
    return std::min(max_refresh_margin_ms, std::max<std::int64_t>(0, lifetime_ms) / 10);
}

const AccessTokenCache::Token* AccessTokenCache::current() {
    const std::int64_t now = clock_.now_ms();
    maybe_fetch(now);
    return valid(now) ? &token_ : nullptr;
}

void AccessTokenCache::wait(Waiter waiter) {
    waiters_.push_back(std::move(waiter));
    maybe_fetch(clock_.now_ms());
}

std::vector<AccessTokenCache::Waiter> AccessTokenCache::take_waiters() noexcept {
    std::vector<Waiter> taken;
    taken.swap(waiters_);
    return taken;
}

std::int64_t AccessTokenCache::next_due_ms() const noexcept {
    if (fetching_) return -1;
    if (retry_at_ms_ >= 0) return retry_at_ms_;
    // With a valid token, its refresh; with none (the start, or one dropped after a 401), now.
    return valid(clock_.now_ms()) ? refresh_at_ms_ : clock_.now_ms();
}

void AccessTokenCache::poll() { maybe_fetch(clock_.now_ms()); }

void AccessTokenCache::maybe_fetch(std::int64_t now) {
    if (fetching_) return;
    if (retry_at_ms_ >= 0 && now < retry_at_ms_) return;
    if (valid(now) && now < refresh_at_ms_) return;
    fetching_ = true;
    fetch_started_ms_ = now;
    retry_at_ms_ = -1;
    ++fetches_;
    if (hooks_.fetch) hooks_.fetch();
}

void AccessTokenCache::on_answer(const TokenAnswer& answer) {
    if (!fetching_) return;
    fetching_ = false;
    const std::int64_t now = clock_.now_ms();
    switch (answer.kind) {
        case TokenAnswer::Kind::token: {
            const std::int64_t lifetime_ms = answer.expires_in_s * 1000;
            const std::int64_t expires_at = fetch_started_ms_ + lifetime_ms;
            if (lifetime_ms <= 0 || expires_at <= now) {
                // It ended while its answer travelled: a slow endpoint, as good as no answer.
                failed(now);
                return;
            }
            token_.value = answer.access_token;
            ++token_.generation;
            token_.expires_at_ms = expires_at;
            has_token_ = true;
            refresh_at_ms_ = expires_at - refresh_margin_ms(lifetime_ms);
            token_after_401_ = next_after_401_ || problem_ == Problem::fcm;
            next_after_401_ = false;
            failures_ = 0;
            retry_at_ms_ = -1;
            if (problem_ == Problem::token_endpoint) {
                problem_ = Problem::none;
                problem_text_.clear();
            }
            // A waiter may send, and a send may come back here: each is called with this copy,
            // and waiters added meanwhile stay for the next token.
            const Token token = token_;
            std::vector<Waiter> ready;
            ready.swap(waiters_);
            for (std::size_t i = 0; i < ready.size(); ++i) {
                try {
                    ready[i](token);
                } catch (...) {
                    // The owner's failure is its own; the waiters after it are not lost to it.
                    waiters_.insert(waiters_.begin(), std::make_move_iterator(ready.begin() + std::ptrdiff_t(i) + 1),
                                    std::make_move_iterator(ready.end()));
                    throw;
                }
            }
            return;
        }
        case TokenAnswer::Kind::credentials:
            failed(now);
            raise(Problem::token_endpoint, "the token endpoint refused the service account (HTTP " +
                                               std::to_string(answer.status) + " " + answer.reason + ")");
            return;
        case TokenAnswer::Kind::failed:
            failed(now);
            return;
    }
}

void AccessTokenCache::failed(std::int64_t now) {
    ++failures_;
    std::int64_t delay = retry_.retry_base_ms;
    for (std::uint32_t i = 1; i < failures_ && delay < retry_.retry_max_ms; ++i) delay *= 2;
    retry_at_ms_ = now + std::min(delay, retry_.retry_max_ms);
}

void AccessTokenCache::raise(Problem problem, std::string text) {
    const bool entered = problem_ != problem;
    problem_ = problem;
    problem_text_ = std::move(text);
    if (entered && hooks_.alert) hooks_.alert(problem_text_);
}

AccessTokenCache::Unauthorized AccessTokenCache::on_unauthorized(std::uint64_t generation) {
    // An older token's 401: it has been replaced already, the push goes again with the new one.
    if (!has_token_ || generation != token_.generation) return Unauthorized::retry;
    if (token_after_401_) {
        raise(Problem::fcm, "FCM refused a fresh access token of the service account (HTTP 401): "
                            "check its role (Firebase Cloud Messaging API Admin) and that the API is enabled");
        return Unauthorized::credentials;
    }
    has_token_ = false;
    next_after_401_ = true;
    maybe_fetch(clock_.now_ms());
    return Unauthorized::retry;
}

void AccessTokenCache::on_accepted(std::uint64_t generation) noexcept {
    if (has_token_ && generation == token_.generation) token_after_401_ = false;
    if (problem_ == Problem::fcm) {
        problem_ = Problem::none;
        problem_text_.clear();
    }
}

AccessTokenCache::State AccessTokenCache::state() const noexcept {
    if (valid(clock_.now_ms())) return State::valid;
    return fetching_ ? State::fetching : State::no_token;
}

std::string_view to_string(AccessTokenCache::State state) noexcept {
    switch (state) {
        case AccessTokenCache::State::no_token: return "no_token";
        case AccessTokenCache::State::fetching: return "fetching";
        case AccessTokenCache::State::valid: return "valid";
    }
    return "?";
}

}  // namespace pushsync::sender::fcm
