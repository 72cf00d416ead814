// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The metrics file beside the queue (queue.path + ".metrics", shared/metrics/layout.hpp): the sender
// writes it (MetricsWriter), nginx's workers read a snapshot of it per scrape (read_metrics).
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shared/device.hpp"
#include "shared/metrics/layout.hpp"

namespace pushsync::metrics {

std::string path_beside_queue(const std::string& queue_path);  // queue_path + ".metrics"

// The metrics file cannot be opened, created or locked; what() names the path.
class MetricsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Histogram {
    std::vector<std::uint64_t> buckets;  // not cumulative; bounds.size() + 1 (the last is +Inf)
    std::uint64_t sum_us = 0;
    std::uint64_t count() const noexcept;
};

// HoldCells as read.
struct HoldFigures {
    std::uint64_t held = 0;
    std::uint64_t merged = 0;
    std::uint64_t released = 0;
    std::uint64_t dropped = 0;
    std::uint64_t waiting = 0;
};

struct Snapshot {
    struct App {
        std::string bundle_id;
        Environment environment = Environment::production;
        std::int64_t credential_expiry_s = 0;  // 0: not known
        Histogram request;
        Platform platform = Platform::apns;
    };
    struct Response {
        std::string bundle_id;    // empty: an app beyond the table's capacity
        std::string environment;  // "production" / "sandbox" / empty
        std::string status;       // "200", "410", "timeout", ...
        std::string reason;       // empty for 200 and for answers without one
        std::uint64_t count = 0;
        Platform platform = Platform::apns;  // of the app; apns for an answer without one
    };
    std::vector<App> apps;
    std::vector<Response> responses;
    Histogram notify_to_push;
    HoldFigures holds;
    std::uint64_t fcm_token_fetches = 0;
    std::uint64_t fcm_token_fetch_failures = 0;
};

// The file at `path`, or nullopt with `error` set (absent: "no metrics file yet"; a file of the
// wrong size, magic or version; cells that do not check out are left out). Never trusts the file:
// a hostile or half-written one yields at worst wrong figures.
std::optional<Snapshot> read_metrics(const std::string& path, std::string& error);
// Only the header and the hold cells (what the status endpoint shows), the same checks.
std::optional<HoldFigures> read_hold_figures(const std::string& path, std::string& error);

enum class HoldEvent { held, merged, released, dropped };

// The sender's side. Everything but construction runs on one thread (the loop's): no locks, the
// cells are added to with relaxed atomics.
class MetricsWriter {
public:
    // Opens the file, or creates it (mode 0660) when it is absent or not of this layout; its
    // counts carry on across sender restarts. Holds a lock on it (one writer). Throws
    // MetricsError naming the path (also when another sender holds the lock).
    static std::unique_ptr<MetricsWriter> open(const std::string& path);
    ~MetricsWriter();
    MetricsWriter(const MetricsWriter&) = delete;
    MetricsWriter& operator=(const MetricsWriter&) = delete;

    // The app's cell, made on first use; no_app when the table is full.
    std::uint32_t app(std::string_view bundle_id, Environment environment, Platform platform = Platform::apns);
    // One APNs answer: status "200", "410", ... or "timeout"; reason empty for 200.
    void count_response(std::uint32_t app, std::string_view status, std::string_view reason);
    void observe_request(std::uint32_t app, std::int64_t micros);
    void observe_notify_to_push(std::int64_t micros);
    // pushsync_credential_expiry_timestamp_seconds{bundle_id,environment} of every environment
    // the app has a cell for (make them first with app()); 0 clears it.
    void set_credential_expiry(std::string_view bundle_id, std::int64_t unix_s);
    void count_hold(HoldEvent event) noexcept;
    // One finished FCM access-token request; `got_token` false: it brought none.
    void count_fcm_token_fetch(bool got_token) noexcept;
    void set_waiting_pushes(std::uint64_t waiting) noexcept;

private:
    // Only open() makes one; the constructor is public for std::make_unique.
    struct Passkey {
        explicit Passkey() = default;
    };

public:
    MetricsWriter(Passkey, int fd, MetricsFile* file);

private:

    int fd_;
    MetricsFile* file_;
    std::unordered_map<std::string, std::uint32_t> apps_;       // bundle_id \0 environment platform -> cell
    std::unordered_map<std::string, std::uint32_t> responses_;  // app \0 status \0 reason -> cell
};

}  // namespace pushsync::metrics
