// SPDX-License-Identifier: BSD-2-Clause
#include "sender/dispatch/recorder.hpp"

#include <cctype>
#include <chrono>

#include "sender/logger.hpp"

namespace pushsync::sender {

std::string status_label(const PushResponse& response) {
    if (response.status != 0) return std::to_string(response.status);
    // "ConnectionLost" -> "connection_lost"; only letters and digits pass (it names a label value).
    std::string label;
    for (const char c : response.reason) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isupper(byte)) {
            if (!label.empty()) label.push_back('_');
            label.push_back(static_cast<char>(std::tolower(byte)));
        } else if (std::isalnum(byte)) {
            label.push_back(c);
        }
    }
    return label.empty() ? "no_answer" : label;
}

DeliveryRecorder::DeliveryRecorder(const Clock& clock, metrics::MetricsWriter* metrics)
    : clock_(clock), metrics_(metrics) {}

void DeliveryRecorder::add_apps(const Config& config) {
    if (!metrics_) return;
    for (const AppConfig& app : config.apps) {
        for (const auto environment : {Environment::production, Environment::sandbox}) {
            if (app.allows(environment)) metrics_->app(app.bundle_id, environment, app.platform);
        }
    }
}

std::int64_t DeliveryRecorder::now_us() noexcept {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void DeliveryRecorder::answer(const Push& push, const PushResponse& response, PushOutcome::Count count) {
    const std::int64_t now_ms = clock_.unix_ms();
    if (metrics_) {
        const std::uint32_t app = metrics_->app(push.bundle_id, push.environment, push.platform);
        const bool answered = response.status != 0;
        metrics_->count_response(app, status_label(response), answered && response.status != 200 ? response.reason : "");
        if (answered) metrics_->observe_request(app, now_us() - push.sent_us);
        if (response.status == 200 && push.enqueued_ms > 0) {
            metrics_->observe_notify_to_push((now_ms - push.enqueued_ms) * 1000);
        }
    }
    batch_.outcomes.push_back(PushOutcome{std::string(push.token),
                                          LastPush{now_ms, std::string(push.tail), response.status, response.reason,
                                                   response.apns_id},
                                          count});
}

void DeliveryRecorder::event(EventKind kind, std::string_view group, std::string_view token, std::string reason) {
    batch_.events.push_back(
        StoreEvent{0, clock_.unix_ms(), kind, std::string(group), std::string(token_prefix(token)), std::move(reason)});
}

void DeliveryRecorder::unroutable(std::string_view group, std::string_view token) {
    batch_.outcomes.push_back(PushOutcome{std::string(token), std::nullopt, PushOutcome::Count::failed});
    event(EventKind::failed, group, token, "app or environment not configured");
}

DeliveryBatch DeliveryRecorder::take() {
    DeliveryBatch out = std::move(batch_);
    batch_ = DeliveryBatch{};
    return out;
}

}  // namespace pushsync::sender
