// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What became of each push, for people: per-device statistics and recent events for the store
// (shared/store/stats.hpp), and the APNs metrics in the metrics file (shared/metrics/file.hpp). Runs on the
// loop thread beside the dispatcher. The metrics are added to at once (relaxed atomics, no
// lock); the store's part piles up here until Pipeline::flush hands it to the StoreWriter, which
// writes it in the transaction it commits anyway for the delivered tails: no fsync of its own.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sender/transport.hpp"
#include "sender/clock.hpp"
#include "shared/config/config.hpp"
#include "shared/metrics/file.hpp"
#include "shared/store/stats.hpp"

namespace pushsync::sender {

struct DeliveryBatch {
    std::vector<PushOutcome> outcomes;
    std::vector<StoreEvent> events;
    bool empty() const noexcept { return outcomes.empty() && events.empty(); }
};

// The metrics' status label of an answer: "200", "410", ...; without an answer (status 0) its
// kind in snake case: "timeout", "connection_lost", "stream_reset", "shutdown".
std::string status_label(const PushResponse& response);

class DeliveryRecorder {
public:
    // `metrics` may be null (no metrics file: the store's part still works).
    DeliveryRecorder(const Clock& clock, metrics::MetricsWriter* metrics);

    // Gives every configured (app, environment) its metrics cell up front, so the credential
    // expiry gauge can be set before the first push.
    void add_apps(const Config& config);

    // Monotonic microseconds, for the APNs answer time (PushRequest sent → answer).
    static std::int64_t now_us() noexcept;

    struct Push {
        std::string_view token;
        std::string_view group;
        std::string_view tail;
        std::string_view bundle_id;
        Environment environment;
        std::int64_t enqueued_ms;  // the oldest notify the push carries (Unix ms, from the queue)
        std::int64_t sent_us;      // now_us() when it was handed to the connection
        Platform platform = Platform::apns;
    };
    // One APNs answer (or its absence). `count`: whether this ends the push as sent or failed.
    void answer(const Push& push, const PushResponse& response, PushOutcome::Count count);
    // A failure or prune worth showing among recent events.
    void event(EventKind kind, std::string_view group, std::string_view token, std::string reason);
    // A device whose app or environment is no longer configured: failed without a request.
    void unroutable(std::string_view group, std::string_view token);

    bool empty() const noexcept { return batch_.empty(); }
    DeliveryBatch take();

private:
    const Clock& clock_;
    metrics::MetricsWriter* metrics_;
    DeliveryBatch batch_;
};

}  // namespace pushsync::sender
